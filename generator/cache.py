"""Rendered Markdown cached on disk by content hash, so unchanged posts are never re-rendered.

Each entry records the content files its links and images pointed at (with their size and
modification time), so a post is re-rendered when an image it shows changes size or a post
it links to appears or disappears, even though its own text did not change.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from .markup import MARKUP_VERSION, Rendered
from .source import stat_signature
from .store import Store


@functools.lru_cache(maxsize=1 << 14)  # a preview asks again for the same (unchanged) bodies
def markup_key(rel: PurePosixPath, body: str) -> str:
    return hashlib.sha256(f"{MARKUP_VERSION}\0{rel}\0{body}".encode()).hexdigest()


class MarkupCache:
    """Rendered bodies in the build's ``Store`` under their ``markup_key``; anything
    unreadable is treated as a miss."""

    def __init__(self, cache_dir: Path, content_dir: Path,
                 memory: dict[str, tuple[Rendered, tuple[tuple[str, str], ...]]] | None = None
                 ) -> None:
        self.store = Store(cache_dir)
        self.content_dir = content_dir
        self.hits = 0
        # A long-running preview keeps entries in memory too (with their files' signatures).
        self.memory = memory

    def _fresh(self, deps: tuple[tuple[str, str], ...]) -> bool:
        return all(stat_signature(self.content_dir / rel) == sig for rel, sig in deps)

    def get_many(self, keys: Sequence[str]) -> dict[str, Rendered]:
        """The rendered bodies cached under ``keys`` (whose linked files are unchanged)."""
        found: dict[str, Rendered] = {}
        wanted = []
        for key in keys:
            if self.memory is not None and key in self.memory:
                rendered, signatures = self.memory[key]
                if self._fresh(signatures):
                    found[key] = rendered
                    continue
            wanted.append(key)
        for key, blob in self.store.get_many("markup", wanted).items():
            rendered_or_none = self._decode(key, blob)
            if rendered_or_none is not None:
                found[key] = rendered_or_none
        self.hits += len(found)
        return found

    def get(self, key: str) -> Rendered | None:
        return self.get_many([key]).get(key)

    def _decode(self, key: str, blob: bytes) -> Rendered | None:
        try:
            data = json.loads(blob)
            deps = tuple((str(rel), str(sig)) for rel, sig in data["deps"])
            if not self._fresh(deps):
                return None
            rendered = Rendered(
                html=data["html"], quotes=tuple(data["quotes"]),
                headings=tuple((int(a), str(b), str(c)) for a, b, c in data["headings"]),
                problems=tuple((line, str(msg)) for line, msg in data["problems"]),
                deps=tuple(str(rel) for rel, _ in deps),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if self.memory is not None:
            self.memory[key] = (rendered, deps)
        return rendered

    def put_many(self, entries: Iterable[tuple[str, Rendered]]) -> None:
        """Keep newly rendered bodies (one transaction for all of them)."""
        rows = []
        for key, rendered in entries:
            deps = tuple((rel, stat_signature(self.content_dir / rel)) for rel in rendered.deps)
            if self.memory is not None:
                self.memory[key] = (rendered, deps)
            entry = {
                "html": rendered.html, "quotes": rendered.quotes,
                "headings": rendered.headings, "problems": rendered.problems, "deps": deps,
            }
            rows.append((key, json.dumps(entry, ensure_ascii=False).encode()))
        self.store.put_many("markup", rows)
