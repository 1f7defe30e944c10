"""Rendered Markdown cached on disk by content hash, so unchanged posts are never re-rendered.

Each entry records the content files its links and images pointed at (with their size and
modification time), so a post is re-rendered when an image it shows changes size or a post
it links to appears or disappears, even though its own text did not change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path, PurePosixPath

from .markup import MARKUP_VERSION, Rendered

log = logging.getLogger(__name__)


def stat_signature(path: Path) -> str:
    """``size:mtime`` of a file, or ``-`` when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def markup_key(rel: PurePosixPath, body: str) -> str:
    return hashlib.sha256(f"{MARKUP_VERSION}\0{rel}\0{body}".encode()).hexdigest()


class MarkupCache:
    """``<cache>/markup/<key>.json`` entries; anything unreadable is treated as a miss."""

    def __init__(self, cache_dir: Path, content_dir: Path,
                 memory: dict[str, tuple[Rendered, tuple[tuple[str, str], ...]]] | None = None
                 ) -> None:
        self.folder = cache_dir / "markup"
        self.content_dir = content_dir
        self.hits = 0
        # A long-running preview keeps entries in memory too (with their files' signatures).
        self.memory = memory

    def _fresh(self, deps: tuple[tuple[str, str], ...]) -> bool:
        return all(stat_signature(self.content_dir / rel) == sig for rel, sig in deps)

    def get(self, key: str) -> Rendered | None:
        if self.memory is not None and key in self.memory:
            rendered, signatures = self.memory[key]
            if self._fresh(signatures):
                self.hits += 1
                return rendered
        try:
            data = json.loads((self.folder / f"{key[:2]}/{key}.json").read_text("utf-8"))
            deps = tuple((str(rel), str(sig)) for rel, sig in data["deps"])
            if not self._fresh(deps):
                return None
            rendered = Rendered(
                html=data["html"], quotes=tuple(data["quotes"]),
                headings=tuple((int(a), str(b), str(c)) for a, b, c in data["headings"]),
                problems=tuple((line, str(msg)) for line, msg in data["problems"]),
                deps=tuple(str(rel) for rel, _ in deps),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self.hits += 1
        if self.memory is not None:
            self.memory[key] = (rendered, deps)
        return rendered

    def put(self, key: str, rendered: Rendered) -> None:
        deps = tuple((rel, stat_signature(self.content_dir / rel)) for rel in rendered.deps)
        if self.memory is not None:
            self.memory[key] = (rendered, deps)
        entry = {
            "html": rendered.html, "quotes": rendered.quotes, "headings": rendered.headings,
            "problems": rendered.problems, "deps": deps,
        }
        folder = self.folder / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle, ensure_ascii=False)
            Path(tmp).replace(folder / f"{key}.json")
        except OSError as exc:  # a cache that cannot be written only costs speed
            log.debug("markup cache not written: %s", exc)
