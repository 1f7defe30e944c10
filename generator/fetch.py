"""The network side of feed embeds: fetching every feed by a deadline, and the last good copies.

The GET itself is :class:`generator.http.HttpFetcher` (imported only when a build goes
online, as httpx takes a while to load). It never trusts the server: connect and read
timeouts, a deadline for the whole download (checked between chunks, so a slow drip cannot
outlast it), a cap on the bytes received and on the bytes they unpack to (gzip/deflate are
inflated there, bounded, so a bomb costs at most the cap in memory), at most
:data:`MAX_REDIRECTS` redirects with loops spotted, http(s) only, also after a redirect. It
asks only for gzip and deflate; any other encoding is a failure. Failures are
:class:`FetchError` with the reason in plain English.

:class:`FeedCache` keeps each feed's last good body and its validators (ETag, Last-Modified,
when it was fetched) as two files under the cache folder, each written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from . import __version__

PROJECT_URL = "https://github.com/campaign-microsite/campaign-microsite"
MAX_BYTES = 2 * 1024 * 1024
GRACE = 0.5  # lets a fetcher report its own reason before fetch_all stops waiting for it
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
_ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
           "text/xml;q=0.9, */*;q=0.1")
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def user_agent() -> str:
    """The User-Agent every feed request sends, naming the project so admins can reach us."""
    return f"campaign-microsite/{__version__} (+{PROJECT_URL})"


def seconds(value: float) -> str:
    """``15 s``, ``1.5 s``: durations as a writer reads them."""
    return f"{round(value, 1):g} s"


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last good copy says about itself, for a conditional GET."""

    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful response: the body, or ``None`` when the server said 304 Not Modified."""

    body: bytes | None
    url: str  # after redirects; relative links in the feed resolve against it
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


class FetchError(Exception):
    """A fetch that failed; ``str(exc)`` is the reason, e.g. ``timed out after 15 s``."""


class Fetcher(Protocol):
    """Fetches one URL within ``timeout`` seconds, or raises :class:`FetchError`."""

    def __call__(self, url: str, validators: Validators, timeout: float) -> Fetched: ...




def fetch_all(jobs: Sequence[tuple[str, str, Validators]], fetcher: Fetcher,
              deadline: float) -> dict[str, Fetched | FetchError]:
    """Fetch ``(id, url, validators)`` jobs at once; by ``deadline`` seconds all have answered.

    Each job runs on its own daemon thread: one stuck where no timeout reaches (a DNS lookup,
    headers sent a byte at a time) is left behind rather than holding up the build or the exit,
    and counts as timed out.
    """
    answers: queue.SimpleQueue[tuple[str, Fetched | FetchError]] = queue.SimpleQueue()

    def run(feed_id: str, url: str, validators: Validators) -> None:
        try:
            answer: Fetched | FetchError = fetcher(url, validators, deadline)
        except FetchError as exc:
            answer = exc
        except Exception as exc:  # a fetcher's bug must not break the build either
            answer = FetchError(f"it failed unexpectedly: {type(exc).__name__}: {exc}")
        answers.put((feed_id, answer))

    until = time.monotonic() + deadline + GRACE
    for job in jobs:
        threading.Thread(target=run, args=job, name=f"feed {job[0]}", daemon=True).start()
    outcomes: dict[str, Fetched | FetchError] = {}
    while len(outcomes) < len(jobs):
        try:
            feed_id, answer = answers.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            break
        outcomes[feed_id] = answer
    for feed_id, _, _ in jobs:
        outcomes.setdefault(feed_id, FetchError(f"timed out after {seconds(deadline)}"))
    return outcomes


@dataclass(frozen=True, slots=True)
class CachedCopy:
    """A feed's last good body, where it came from and when."""

    url: str  # as configured: the copy is only reused for the same URL
    location: str  # after redirects: the feed's relative links resolve against it
    body: bytes
    content_type: str
    fetched_at: datetime
    validators: Validators


@dataclass(frozen=True, slots=True)
class FeedCache:
    """Last good copies under ``folder``: ``<id>.feed`` (the bytes) and ``<id>.json``."""

    folder: Path

    def _paths(self, feed_id: str) -> tuple[Path, Path]:
        name = feed_id if _SAFE_NAME.match(feed_id) else hashlib.sha256(
            feed_id.encode()).hexdigest()
        return self.folder / f"{name}.feed", self.folder / f"{name}.json"

    def load(self, feed_id: str, url: str) -> CachedCopy | None:
        """The copy saved for this feed, if there is one, intact and from this same URL."""
        body_path, meta_path = self._paths(feed_id)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
            if meta["url"] != url or meta["sha256"] != hashlib.sha256(body).hexdigest():
                return None
            return CachedCopy(url, str(meta.get("location", url)), body,
                              str(meta.get("content_type", "")),
                              datetime.fromisoformat(meta["fetched_at"]),
                              Validators(str(meta.get("etag", "")),
                                         str(meta.get("last_modified", ""))))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, feed_id: str, copy: CachedCopy, *, body_changed: bool = True) -> None:
        """Write the copy (raises OSError); the body first, so metadata never outruns it."""
        body_path, meta_path = self._paths(feed_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        if body_changed:
            _write_atomically(body_path, copy.body)
        meta = {"url": copy.url, "location": copy.location, "etag": copy.validators.etag,
                "last_modified": copy.validators.last_modified,
                "fetched_at": copy.fetched_at.isoformat(), "content_type": copy.content_type,
                "sha256": hashlib.sha256(copy.body).hexdigest()}
        _write_atomically(meta_path, json.dumps(meta, indent=1, sort_keys=True).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    # A unique temporary name per writer, so a dev server and a build can both save safely.
    # No fsync: a copy torn by a power cut fails its checksum and is simply not used.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
