"""What each output was built from, so a rebuild redoes only what a change affects.

A job's digest covers its whole context (the post, the listing's cards, the feed's items),
the templates it uses (followed through extends/include/import), the config, the theme's
strings and the generator's own code. The manifest maps each output file to the digest it
was built with; an output whose digest is unchanged is kept (see :mod:`generator.output`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import jinja2.meta

from . import __version__
from .config import SiteConfig
from .errors import BuildError, Problem
from .source import TextError, read_text

log = logging.getLogger(__name__)
T = TypeVar("T")
_CODE = Path(__file__).resolve().parent


def _hash_files(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def site_salt(cfg: SiteConfig, themes: Sequence[Path]) -> str:
    """Changes when anything every page depends on changes: config, strings, code."""
    strings = sorted(p for t in themes for p in (t / "i18n").glob("*.yaml"))
    code = sorted(_CODE.glob("*.py"))
    return hashlib.sha256(
        f"{__version__}\0{cfg!r}\0{_hash_files(strings)}\0{_hash_files(code)}".encode()
    ).hexdigest()


_INLINE = 32  # tuples up to this long are digested inline, longer ones once (see _feed)
_RECORDS: set[type] = {tuple}  # kinds seen to be digested field by field (or item by item)


class _Remembered:
    """Answers by key, kept for a few builds of a preview: ``get`` marks an entry used, and
    every few builds the entries the last two builds did not use are forgotten."""

    def __init__(self) -> None:
        self._known: dict[Any, list[Any]] = {}  # key → [answer, last build used, *kept]
        self._build = 0

    def next_build(self) -> None:
        # Deleted in place: a new dict would hash every key again.
        if self._build % 8 == 0:
            for stale in [k for k, v in self._known.items() if v[1] < self._build - 1]:
                del self._known[stale]
        self._build += 1

    def get(self, key: Any) -> Any:
        """The answer kept for ``key`` (None if there is none); raises TypeError for an
        unhashable key."""
        entry = self._known.get(key)
        if entry is None:
            return None
        entry[1] = self._build
        return entry[0]

    def put(self, key: Any, answer: Any, *kept: Any) -> None:
        """Keep ``answer`` for ``key``; ``kept`` objects stay alive as long as the entry."""
        self._known[key] = [answer, self._build, *kept]


class Fingerprints:
    """Digests of frozen values, each object hashed once per build (by identity).

    Fields declared with ``metadata={"digest": False}`` (a file's path, its line numbers)
    are left out: they are for messages and cannot change what is written.

    A listing page and a dozen feeds share the same post records; hashing each record once
    and combining digests is far cheaper than ``repr`` of every job's whole context.
    """

    def __init__(self, *, remember: bool = False) -> None:
        # id → digest for this build; every record in it is kept alive (in ``_alive``), so
        # no other object can take its id meanwhile
        self.seen: dict[int, bytes] = {}
        self._alive: list[object] = []
        self._fields: dict[type, tuple[tuple[str, bytes], ...]] = {}
        # With ``remember`` (a preview), records equal to one of the last two builds' reuse
        # its digest: a rebuild makes new but mostly equal records, and comparing them is
        # far cheaper than hashing them again.
        self._remember = remember
        self._values = _Remembered()  # record → its digest: one hash of the record a look-up
        self._by_value: dict[type, bool] = {}

    def next_build(self) -> None:
        """Forget the last build's objects (a preview builds again and again)."""
        self.seen.clear()
        self._alive.clear()
        if self._remember:
            self._values.next_build()

    def of(self, value: object) -> bytes:
        if isinstance(value, str | bytes | bool | int | float) or value is None:
            h = hashlib.sha256()
            self._feed(h, value)
            return h.digest()
        found = self.seen.get(id(value))
        if found is not None:
            return found
        digest = self._recalled(value) if self._remember else None
        if digest is None:
            digest = self._compute(value)
            if self._remember and self._by_value.get(type(value)):
                self._values.put(value, digest)
        self.seen[id(value)] = digest
        self._alive.append(value)
        return digest

    def _recalled(self, value: object) -> bytes | None:
        """The digest of an equal record from this build or the one before, if any."""
        kind = type(value)
        usable = self._by_value.get(kind)
        if usable is None:
            # Equality must cover every digested field.
            usable = self._by_value[kind] = (
                dataclasses.is_dataclass(value) and not isinstance(value, type)
                and all(f.compare or not f.metadata.get("digest", True)
                        for f in dataclasses.fields(value))
                and kind.__hash__ is not None)
        if not usable:
            return None
        try:
            digest: bytes | None = self._values.get(value)
        except TypeError:  # a field holds a list or dict: this kind is not hashable
            self._by_value[kind] = False
            return None
        return digest

    def _feed(self, h: Any, value: object) -> None:
        """Add ``value`` to ``h``: plain values inline (tagged, with their length), the rest by
        their own digest."""
        kind = type(value)
        if kind is str:  # by far the most common: tested first, exactly
            data = value.encode("utf-8", "surrogatepass")  # type: ignore[attr-defined]
            h.update(b"s%d:%b" % (len(data), data))
        elif kind is tuple and len(value) <= _INLINE:  # type: ignore[arg-type]
            # A short tuple (tags, headings, a page's cards) goes in item by item: cheaper
            # than a digest of its own, which only pays off for big shared ones.
            h.update(b"t%d:" % len(value))  # type: ignore[arg-type]
            for item in value:  # type: ignore[attr-defined]
                self._feed(h, item)
        elif kind in _RECORDS:
            h.update(b"o")
            h.update(self.of(value))
        elif isinstance(value, str):
            data = value.encode("utf-8", "surrogatepass")
            h.update(b"s%d:" % len(data))
            h.update(data)
        elif value is None or isinstance(value, bool | int | float):
            h.update(b"v" + repr(value).encode() + b";")
        elif isinstance(value, bytes):
            h.update(b"b%d:" % len(value))
            h.update(value)
        else:
            h.update(b"o")
            h.update(self.of(value))

    def _compute(self, value: object) -> bytes:
        h = hashlib.sha256(type(value).__qualname__.encode())
        names = self._fields.get(type(value))
        if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = self._fields[type(value)] = tuple(
                (f.name, f.name.encode()) for f in dataclasses.fields(value)
                if f.metadata.get("digest", True))
            _RECORDS.add(type(value))
        if names is not None:
            for name, label in names:
                h.update(label)
                self._feed(h, getattr(value, name))
        elif isinstance(value, tuple | list):
            h.update(b"%d" % len(value))
            for item in value:
                self._feed(h, item)
        elif isinstance(value, dict):
            for key, item in sorted(value.items(), key=lambda kv: repr(kv[0])):
                self._feed(h, key)
                self._feed(h, item)
        elif isinstance(value, frozenset | set):
            for digest in sorted(self.of(item) for item in value):
                h.update(digest)
        else:  # dates, paths, enums: their repr is exact and cheap
            h.update(repr(value).encode())
        return h.digest()


def template_salts(env: jinja2.Environment) -> dict[str, str]:
    """For each template: a hash of its source and of every template it pulls in."""
    loader = env.loader
    assert loader is not None
    names = loader.list_templates()
    sources: dict[str, str] = {}
    refs: dict[str, set[str] | None] = {}
    for name in names:
        try:
            source, filename, _ = loader.get_source(env, name)
        except UnicodeDecodeError:
            raise BuildError([_not_text(loader, name)]) from None
        sources[name] = source
        try:
            parsed = env.parse(source, name, filename)
        except jinja2.TemplateSyntaxError as exc:
            where = Path(exc.filename) if exc.filename else None
            raise BuildError([Problem(where, exc.lineno, f"template error: {exc.message}; "
                                                         "fix the template")]) from exc
        found = list(jinja2.meta.find_referenced_templates(parsed))
        # A computed name (None) may be any template.
        refs[name] = None if None in found else {ref for ref in found if ref is not None}
    salts = {}
    for name in names:
        closure: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in closure:
                continue
            closure.add(current)
            deps = refs.get(current, set())
            pending.extend(names if deps is None else deps)
        h = hashlib.sha256()
        for dep in sorted(closure):
            h.update(f"{dep}\0{sources.get(dep, '')}\0".encode())
        salts[name] = h.hexdigest()
    return salts


def _not_text(loader: jinja2.BaseLoader, name: str) -> Problem:
    """What is wrong with a template that is not UTF-8 text, said as for any writer's file."""
    for folder in getattr(loader, "searchpath", ()):
        path = Path(folder) / name
        if path.is_file():
            try:
                read_text(path)
            except TextError as exc:
                return Problem(path, exc.line, str(exc))
    return Problem(None, None, f"the template {name} is not UTF-8 text; save it as UTF-8")


def input_stamp(parts: Sequence[object], roots: Sequence[Path]) -> str:
    """A digest of everything a build reads: ``parts`` (settings, the published posts, the
    embedded feeds, the site salt), every file under ``roots`` (content, themes, the
    generator) by path, size and modification time, and the installed libraries' versions.
    Equal stamps mean the build would write the same tree again."""
    prints = Fingerprints()
    h = hashlib.sha256(prints.of(tuple(parts)))
    h.update(_installed())
    for root in [_CODE, *roots]:
        h.update(b"\0root " + str(root).encode("utf-8", "surrogateescape"))
        for entry in sorted(_files(root)):
            h.update(entry)
    return h.hexdigest()


def _installed() -> bytes:
    """Names (with versions) of the installed distributions, e.g. ``Markdown-3.7.dist-info``."""
    names: list[str] = []
    for folder in sys.path:
        try:
            names.extend(p.name for p in Path(folder or ".").iterdir()
                         if p.name.endswith(".dist-info"))
        except OSError:
            continue
    return "\0".join(sorted(names)).encode()


def _files(folder: Path) -> list[bytes]:
    """``path size mtime`` of every file under ``folder`` (caches of compiled code aside)."""
    found: list[bytes] = []
    pending = [str(folder)]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name == "__pycache__":
                continue
            if entry.is_dir(follow_symlinks=True):
                pending.append(entry.path)
            else:
                try:
                    st = entry.stat()
                except OSError:
                    continue
                found.append(b"%s\0%d\0%d\n" % (os.fsencode(entry.path), st.st_size,
                                                 st.st_mtime_ns))
    return found


class Interner(_Remembered):
    """For a preview: a record equal to one made by the last builds is swapped for that
    older one, so records that did not change keep their identity from build to build (and
    whatever depends on them can be recognised by identity alone)."""

    def __call__(self, value: T) -> T:
        known: T | None = self.get(value)
        if known is None:
            self.put(value, value)
            return value
        return known


class JobDigests(_Remembered):
    """For a preview: each job's digest, found again by what the job is made of: its own
    fields and the identity of each record in its context (see :class:`Interner`). A job
    whose records are all the very objects of a previous build needs no hashing at all."""

    @staticmethod
    def key(job: Any, salt: str) -> tuple[Any, ...]:
        parts: list[Any] = [salt, job.path, job.kind, job.template, id(job.feed), job.source,
                            job.digest_extra, job.data]
        for name, value in job.context:
            kind = type(value)
            parts.append(name)
            parts.append(value if kind is str or kind is bool or kind is int or value is None
                         else (kind, id(value)))
        return tuple(parts)

    def remember(self, key: tuple[Any, ...], job: Any, digest: str) -> None:
        # The job is kept so that the objects whose ids are in the key stay alive (an id is
        # unique only while its object lives).
        self.put(key, digest, job)
