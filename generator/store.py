"""The build cache's blobs (rendered Markdown) in one SQLite file, and its pickled files.

One file instead of one file per entry: creating thousands of small files costs more
system time than rendering them (every create is a journalled metadata update), and a
thousand entries are written here in one transaction. SQLite ships with Python, takes care
of concurrent writers (worker processes each write their own batch) and of atomic commits.
It is a cache: anything unreadable is a miss, and a damaged file is set aside and rebuilt.
"""

from __future__ import annotations

import logging
import os
import pickle
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "cache.sqlite"
_BATCH = 500  # keys per query (SQLite allows 32766 parameters)
_SCHEMA = ("CREATE TABLE IF NOT EXISTS blobs "
           "(kind TEXT, key TEXT, value BLOB, PRIMARY KEY (kind, key))")
_LOCKED = "database is locked"
_LOCKED_TRIES = 40  # ~4 s of waits in all, growing from 5 ms


class Store:
    """``(kind, key) → bytes`` in ``<cache_dir>/cache.sqlite``, opened on first use.

    Safe across ``fork``: a process that did not open the connection opens its own.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / FILE_NAME
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._broken = False

    def get(self, kind: str, key: str) -> bytes | None:
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute("SELECT value FROM blobs WHERE kind = ? AND key = ?",
                             (kind, key)).fetchone()
        except sqlite3.Error as exc:
            self._give_up(exc)
            return None
        return None if row is None else bytes(row[0])

    def get_many(self, kind: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The blobs there are for ``keys``, read in one transaction (a lock per read costs
        more than the read)."""
        db = self._connect()
        if db is None or not keys:
            return {}
        found: dict[str, bytes] = {}
        try:
            with db:
                db.execute("BEGIN")
                for start in range(0, len(keys), _BATCH):
                    batch = keys[start:start + _BATCH]
                    marks = ",".join("?" * len(batch))
                    for key, value in db.execute(
                            f"SELECT key, value FROM blobs WHERE kind = ? AND key IN ({marks})",
                            (kind, *batch)):
                        found[str(key)] = bytes(value)
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        return found

    def put_many(self, kind: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Store every item in one transaction; a cache that cannot be written only costs
        speed."""
        rows = [(kind, key, value) for key, value in items]
        if not rows:
            return
        db = self._connect()
        if db is None:
            return
        try:
            with db:  # one transaction: without BEGIN, each row would be one (and a lock)
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._give_up(exc)

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        # A forked worker must not use its parent's connection; it opens its own.
        damaged, locked = False, 0
        while True:
            db = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                     check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(_SCHEMA)
            except sqlite3.OperationalError as exc:  # locked, unreadable, disk full
                if db is not None:
                    db.close()
                # Turning WAL on (or creating the table) while another process does gets
                # "locked" at once, whatever the timeout: the first build's workers open
                # the new file together. Try again a little later.
                if _LOCKED in str(exc) and locked < _LOCKED_TRIES:
                    locked += 1
                    time.sleep(0.005 * locked)
                    continue
                self._give_up(exc)
                return None
            except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
                if db is not None:
                    db.close()
                if not damaged and self.path.exists():
                    damaged = True
                    log.warning("the build cache %s could not be read (%s); starting afresh",
                                self.path, exc)
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                    continue
                self._give_up(exc)
                return None
            except OSError as exc:
                self._give_up(exc)
                return None
            self._db, self._pid = db, os.getpid()
            return db

    def _give_up(self, exc: BaseException) -> None:
        log.debug("build cache %s not used: %s", self.path, exc)
        self._broken = True


def load_pickle(path: Path | None, tag: str) -> dict[Any, Any]:
    """The dict ``save_pickle`` kept under ``tag`` (a version, or a key of its inputs); empty
    when the file is missing, damaged or kept under another tag. Our own file, beside
    content/: it is trusted like the code."""
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            kept, values = pickle.load(handle)
    except Exception:  # missing, damaged, from another version: all only cost time
        return {}
    return values if kept == tag and isinstance(values, dict) else {}


def save_pickle(path: Path, tag: str, values: Mapping[Any, Any]) -> None:
    """Keep ``values`` under ``tag``, replacing the file at once when complete; a cache that
    cannot be written only costs time on the next build."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((tag, dict(values)), handle, pickle.HIGHEST_PROTOCOL)
        Path(tmp).replace(path)
    except OSError as exc:
        log.debug("cache %s not written: %s", path, exc)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
