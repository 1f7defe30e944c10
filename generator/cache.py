"""Rendered Markdown cached on disk by content hash, so unchanged posts are never re-rendered.

The HTML stays on disk during a build too: the site model holds a :class:`Body` (what was
found in the HTML, its digest, and where it is kept), and the HTML is read when a page or a
feed that shows it is made, in the worker making it. A big site's bodies never all sit in
one process's memory.

Each entry records the content files its links and images pointed at (with their size and
modification time), so a post is re-rendered when an image it shows changes size or a post
it links to appears or disappears, even though its own text did not change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from .errors import BuildError, Problem
from .markup import MARKUP_VERSION, Markup, Rendered
from .source import TextError, read_text, split_front_matter, stat_signature
from .store import Store

_NOT_OUTPUT = {"digest": False}
Headings = tuple[tuple[int, str, str], ...]
_RECENT = 128  # bodies kept in memory once read: a feed and its neighbours share many


def markup_key(rel: PurePosixPath, body: str) -> str:
    return hashlib.sha256(f"{MARKUP_VERSION}\0{rel}\0{body}".encode()).hexdigest()


def html_digest(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Body:
    """A post's rendered Markdown as the site holds it: what was found in it and its
    digest; the HTML itself is read from ``keeper`` when a page is made (``html``)."""

    key: str  # markup_key: where the HTML is kept
    digest: str  # of the HTML: what page digests use
    quotes: tuple[str, ...]
    problems: tuple[tuple[int | None, str], ...]  # (0-based body line or None, message)
    sources: tuple[tuple[str, int | None], ...]  # content files linked to, with lines
    source: Path = field(metadata=_NOT_OUTPUT)  # the Markdown file, to render it again
    rel: PurePosixPath = field(metadata=_NOT_OUTPUT)
    keeper: MarkupCache = field(compare=False, repr=False, metadata=_NOT_OUTPUT)

    @property
    def html(self) -> str:
        """The HTML, with late-bound ``site:`` and ``site-src:`` link markers."""
        return self.keeper.page(self)[0]

    @property
    def headings(self) -> Headings:
        """(level, id, text) of each heading: kept with the HTML, which they come from."""
        return self.keeper.page(self)[1]


def changed_meanwhile(source: Path) -> BuildError:
    """What stops a build whose content file no longer holds what it read at first."""
    return BuildError([Problem(source, None, "this file changed while the site was being "
                                             "built; build again")])


def read_markdown(source: Path) -> str | None:
    """A content file's body (the Markdown after its front matter), or None when it has
    none any more."""
    try:
        split = split_front_matter(read_text(source))
    except TextError:
        return None
    return split[1] if split is not None else None


class MarkupCache:
    """Rendered bodies in the build's ``Store`` under their ``markup_key``: for each, what
    was found in it (kind "markup") and its HTML (kind "html"). Anything unreadable is a
    miss; HTML that cannot be read back is made again from its file."""

    def __init__(self, cache_dir: Path, content_dir: Path,
                 memory: dict[str, tuple[Body, tuple[tuple[str, str], ...]]] | None = None
                 ) -> None:
        self.store = Store(cache_dir)
        self.content_dir = content_dir
        # A long-running preview keeps what it found in memory too (with the signatures of
        # the files each body links to).
        self.memory = memory
        # key → (HTML digest, HTML, headings): the last few read or made here
        self._recent: dict[str, tuple[str, str, Headings]] = {}
        self._markup: Markup | None = None  # see ``markup``

    def _fresh(self, deps: tuple[tuple[str, str], ...]) -> bool:
        return all(stat_signature(self.content_dir / rel) == sig for rel, sig in deps)

    def _signed(self, deps: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """Each linked file with its signature now (``_fresh`` compares them later)."""
        return tuple((dep, stat_signature(self.content_dir / dep)) for dep in deps)

    def markup(self) -> Markup:
        """The converter that renders this cache's bodies in this process, made on first use
        (a forked worker makes its own). A preview keeps it from one build to the next."""
        if self._markup is None:
            self._markup = Markup(self.content_dir)
        return self._markup

    def missing(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` the store has no body for."""
        present = self.store.get_many("markup", keys)
        return [key for key in keys if key not in present]

    def get_many(self, keys: Sequence[str], sources: Sequence[tuple[Path, PurePosixPath]]
                 ) -> dict[str, Body]:
        """The bodies cached under ``keys`` (whose linked files are unchanged); each key's
        file and its path under content/ are in ``sources``."""
        found: dict[str, Body] = {}
        wanted = []
        for key in keys:
            if self.memory is not None and key in self.memory:
                body, signatures = self.memory[key]
                if self._fresh(signatures):
                    found[key] = body
                    continue
            wanted.append(key)
        where = dict(zip(keys, sources, strict=True))
        for key, blob in self.store.get_many("markup", wanted).items():
            decoded = self._decode(key, blob, *where[key])
            if decoded is not None:
                found[key] = decoded
        return found

    def _decode(self, key: str, blob: bytes, source: Path, rel: PurePosixPath) -> Body | None:
        try:
            data = json.loads(blob)
            deps = tuple((str(dep), str(sig)) for dep, sig in data["deps"])
            if not self._fresh(deps):
                return None
            body = Body(
                key=key, digest=str(data["digest"]), quotes=tuple(data["quotes"]),
                problems=tuple((line, str(msg)) for line, msg in data["problems"]),
                sources=tuple((str(target), line) for target, line in data["sources"]),
                source=source, rel=rel, keeper=self)
        except (ValueError, KeyError, TypeError):
            return None
        if self.memory is not None:
            self.memory[key] = (body, deps)
        return body

    def put_many(self, entries: Iterable[tuple[str, Path, PurePosixPath, Rendered]]
                 ) -> list[Body]:
        """Keep newly rendered bodies (one transaction for all of them): (key, file, path
        under content/, what the Markdown gave)."""
        rows = []
        pages = []
        bodies = []
        for key, source, rel, rendered in entries:
            deps = self._signed(rendered.deps)
            body = self.body(key, html_digest(rendered.html), source, rel, rendered)
            if self.memory is not None:
                self.memory[key] = (body, deps)
                self._remember(key, body.digest, (rendered.html, rendered.headings))
            entry = {
                "digest": body.digest, "quotes": rendered.quotes,
                "problems": rendered.problems, "deps": deps, "sources": rendered.sources,
            }
            rows.append((key, json.dumps(entry, ensure_ascii=False).encode()))
            # The HTML and its headings, apart: only the pages that show them read them.
            pages.append((key, json.dumps(rendered.headings, ensure_ascii=False).encode()
                          + b"\0" + rendered.html.encode("utf-8", "surrogatepass")))
            bodies.append(body)
        self.store.put_many("markup", rows)
        self.store.put_many("html", pages)
        return bodies

    def body(self, key: str, digest: str, source: Path, rel: PurePosixPath,
             rendered: Rendered) -> Body:
        """The site's record of a rendered body whose HTML (with ``digest``) is kept here."""
        return Body(key, digest, rendered.quotes, rendered.problems, rendered.sources, source,
                    rel, self)

    def adopt(self, key: str, digest: str, source: Path, rel: PurePosixPath,
              rendered: Rendered) -> Body:
        """``body`` for what another process rendered and kept (see ``without_html``)."""
        body = self.body(key, digest, source, rel, rendered)
        if self.memory is not None:
            self.memory[key] = (body, self._signed(rendered.deps))
        return body

    def page(self, body: Body) -> tuple[str, Headings]:
        """``body``'s HTML and headings: from memory, from the store, or (when neither has
        them, or has others) by rendering its file again."""
        recent = self._recent.get(body.key)
        if recent is not None and recent[0] == body.digest:  # not an older rendering
            return recent[1], recent[2]
        found = None
        blob = self.store.get("html", body.key)
        if blob is not None:
            found = self._decode_page(blob, body.digest)
        if found is None:
            markdown = read_markdown(body.source)
            rendered = None
            if markdown is not None:
                rendered = self.markup().render(markdown, body.rel)
            if rendered is None or html_digest(rendered.html) != body.digest:
                raise changed_meanwhile(body.source)
            found = (rendered.html, rendered.headings)
        self._remember(body.key, body.digest, found)
        return found

    @staticmethod
    def _decode_page(blob: bytes, digest: str) -> tuple[str, Headings] | None:
        try:
            headings, _, html = blob.partition(b"\0")
            text = html.decode("utf-8", "surrogatepass")
            if html_digest(text) != digest:
                return None
            return text, tuple((int(a), str(b), str(c)) for a, b, c in json.loads(headings))
        except (ValueError, TypeError):
            return None

    def _remember(self, key: str, digest: str, page: tuple[str, Headings]) -> None:
        if key not in self._recent and len(self._recent) >= _RECENT:
            del self._recent[next(iter(self._recent))]
        self._recent[key] = (digest, *page)


def without_html(rendered: Rendered) -> tuple[str, Rendered]:
    """(the HTML's digest, the rest): what a worker sends back once the HTML is stored."""
    return html_digest(rendered.html), replace(rendered, html="")
