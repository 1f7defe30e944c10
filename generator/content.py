"""The writers' files: find them, read front matter, check every key, make frozen records.

Posts live in ``content/posts/``, pages in ``content/pages/``. A translation sits next to its
original with the language before ``.md`` (``welcome.es.md``) or names it with
``translation_of:``. Every mistake becomes a located :class:`~generator.errors.Problem`.
"""

from __future__ import annotations

import calendar
import difflib
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from zoneinfo import ZoneInfo

from .cache import markup_key
from .config import SiteConfig, unknown_key_message
from .errors import Problem, warning
from .markup import MARKUP_VERSION
from .social import valid_hashtag
from .source import YamlDoc, describe, read_front_matter, stat_signature
from .store import load_pickle, save_pickle
from .urls import slugify
from .workers import in_background, map_shared

Kind = Literal["post", "page"]

POST_KEYS = ("title", "date", "campaign", "tags", "summary", "image", "image_alt", "author",
             "tweet", "tweets", "hashtags", "draft", "slug", "lang", "translation_of", "updated",
             "evergreen")
PAGE_KEYS = ("title", "summary", "image", "image_alt", "slug", "draft", "lang", "translation_of")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_SLUG = re.compile(r"^[\w][\w-]*$", re.UNICODE)
_LANG_SUFFIX = re.compile(r"^(.+)\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)$")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")
PARSE_VERSION = "4"  # bump when parsing changes, to refresh caches
_HASHTAGS_BLANK = ("'hashtags' is empty; write hashtags without '#' (a '#' starts a comment), "
                   "like hashtags: [NASSP]")


# Fields for messages and for making HTML, not part of any page: left out of digests.
_NOT_OUTPUT = {"digest": False}


@dataclass(frozen=True, slots=True)
class Post:
    """One post or standalone page, as the writer wrote it (its body named, not held)."""

    kind: Kind
    source: Path = field(metadata=_NOT_OUTPUT)  # the file
    rel: PurePosixPath  # the file relative to the content folder, e.g. posts/x.md
    key: str  # what translations share: the original's path without language and .md
    lang: str
    slug: str
    title: str
    # The body's Markdown is not kept here (a big site's would fill memory): its key in
    # the rendered-Markdown cache (see cache.markup_key) names it and its HTML.
    body_key: str = field(metadata=_NOT_OUTPUT)
    body_line: int = field(metadata=_NOT_OUTPUT)  # the file line where the body starts
    date: datetime | None = None  # aware; None for pages
    updated: datetime | None = None
    campaign: str = ""
    tags: tuple[str, ...] = ()
    summary: str = ""
    image: str = ""  # relative to content/, e.g. images/x.jpg
    image_alt: str = ""
    author: str = ""
    tweet: str = ""
    tweets: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    draft: bool = False
    evergreen: bool = True  # false: about a date, so the posting plan shares it only once
    translation_of: str = ""
    lines: tuple[tuple[str, int], ...] = field(default=(), metadata=_NOT_OUTPUT)  # key -> line

    def line(self, key: str) -> int:
        return dict(self.lines).get(key, 1)

    def __hash__(self) -> int:
        # A few distinguishing fields: equal records hash alike, and a preview looks
        # records up by value at every build (see incremental.Fingerprints).
        return hash((self.title, self.body_key))


def parse_date(value: Any, tz: ZoneInfo) -> datetime | None:
    """``2024-05-01``, ``2024-05-01 09:30`` (site time zone) or ISO 8601 with an offset."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _DATE.match(text)
    try:
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=tz)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool)
                                       for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return None


class _Fields:
    """Typed reads of one file's front matter, collecting problems with their lines."""

    def __init__(self, doc: YamlDoc, path: Path, problems: list[Problem]) -> None:
        self.doc, self.path, self.problems = doc, path, problems
        self.data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}

    def fail(self, key: str, message: str, *within: str | int) -> None:
        self.problems.append(Problem(self.path, self.doc.line(key, *within), message))

    def text(self, key: str, required: bool = False, hint: str = "") -> str:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(key, f"'{key}' is required{hint}")
            return ""
        if isinstance(value, list | dict):
            self.fail(key, f"'{key}' must be text (got {describe(value)}); put quotes around "
                           "a value that starts with '[' or '{'")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(key, f"'{key}' must be text (got {describe(value)})")
            return ""
        return " ".join(str(value).split()) if key != "tweet" else str(value).strip()

    def strings(self, key: str, blank: str = "") -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            if blank and key in self.data:
                self.fail(key, blank)
            return ()
        result = _strings(value)
        if result is None:
            self.fail(key, f"'{key}' must be a list like [one, two] (got {describe(value)})")
            return ()
        return result

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of free texts (each may contain commas); one text alone is a list of one."""
        value = self.data.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            self.fail(key, f"'{key}' must be a list of texts, each on its own line starting "
                           f"with '- ' (got {describe(value)})")
            return ()
        return tuple(v.strip() for v in items if v.strip())

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(key, f"'{key}' must be true or false (got {describe(value)})")
            return False
        return value


def _file_identity(rel: PurePosixPath, languages: Sequence[str]) -> tuple[str, str | None, str]:
    """(translation key, language from the file name or None, slug from the file name)."""
    stem = rel.name.removesuffix(".md")
    lang = None
    match = _LANG_SUFFIX.match(stem)
    if match and match.group(2) in languages:
        stem, lang = match.group(1), match.group(2)
    key = str(rel.parent / stem)
    return key, lang, slugify(_DATE_PREFIX.sub("", stem)) or slugify(stem)


def parse_post(path: Path, rel: PurePosixPath, kind: Kind, cfg: SiteConfig
               ) -> tuple[Post | None, list[Problem]]:
    """Read one Markdown file into a Post (or None) plus every problem found in it."""
    post, problems, _ = _parse(path, rel, kind, cfg)
    return post, problems


def _parse(path: Path, rel: PurePosixPath, kind: Kind, cfg: SiteConfig
           ) -> tuple[Post | None, list[Problem], str]:
    """``parse_post``, and the body's Markdown."""
    required = "title, date and campaign" if kind == "post" else "a title"
    read = read_front_matter(path, kind, required)
    if isinstance(read, Problem):
        return None, [read], ""
    doc, body, body_line = read
    problems: list[Problem] = []
    f = _Fields(doc, path, problems)
    allowed = POST_KEYS if kind == "post" else PAGE_KEYS
    for key in f.data:
        if key in POST_KEYS and key not in allowed:
            f.fail(str(key), f"'{key}' is for posts, not pages; a page takes "
                             f"{', '.join(PAGE_KEYS)}")
        elif key not in allowed:
            f.fail(str(key), unknown_key_message(key, allowed))
    title = f.text("title", required=True,
                   hint=f": the {kind}'s headline, like title: Our first week")

    key, file_lang, file_slug = _file_identity(rel, cfg.all_languages)
    lang = f.text("lang") or file_lang or cfg.language
    if lang not in cfg.all_languages:
        f.fail("lang", f"'lang' is {describe(lang)}, which this site does not publish in; "
                       f"add it to 'languages:' in site.yaml or use one of "
                       f"{', '.join(cfg.all_languages)}")
        lang = cfg.language
    slug = f.text("slug") or file_slug
    if not slug:
        problems.append(Problem(path, 1, f"the file name gives this {kind} no web address (it "
                                         "has no letters or digits); rename the file, or add "
                                         "a 'slug:' like slug: my-post"))
    elif not _SLUG.match(slug):
        f.fail("slug", f"'slug' may use only letters, digits, '-' and '_' (got {describe(slug)})")
        slug = file_slug

    post_date = updated = None
    campaign = ""
    if kind == "post":
        post_date = _date_field(f, "date", cfg, required=True)
        updated = _date_field(f, "updated", cfg)
        campaign = f.text("campaign", required=True,
                          hint=": the id of a campaign in site.yaml, one of: "
                               + ", ".join(c.id for c in cfg.campaigns))
        if campaign and cfg.campaign(campaign) is None:
            f.fail("campaign", unknown_key_message(
                campaign, tuple(c.id for c in cfg.campaigns), what="campaign"))
    hashtags, tags = _tag_lists(f)
    image = f.text("image")
    image_alt = f.text("image_alt")
    if image:
        image = _check_image(f, image, cfg.content_dir)
        if image and not image_alt:
            problems.append(warning(path, f.doc.line("image"),
                                    f"'image' {image} has no 'image_alt'; describe the picture "
                                    "for readers who use screen readers"))
    post = Post(
        kind=kind, source=path, rel=rel, key=key, lang=lang, slug=slug,
        title=title, body_key=markup_key(rel, body), body_line=body_line, date=post_date,
        updated=updated,
        campaign=campaign, tags=tags,
        summary=f.text("summary"), image=image, image_alt=image_alt,
        author=f.text("author"), tweet=f.text("tweet"), tweets=f.texts("tweets"),
        hashtags=hashtags, draft=f.flag("draft"),
        evergreen=f.data.get("evergreen") is None or f.flag("evergreen"),
        translation_of=f.text("translation_of"),
        lines=tuple((str(k[0]), line) for k, line in sorted(doc.lines.items(), key=str)
                    if len(k) == 1),
    )
    return (post if not any(p.is_error for p in problems) else None), problems, body


def _tag_lists(f: _Fields) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(hashtags without '#', tags without repeats), each checked."""
    hashtags = f.strings("hashtags", blank=_HASHTAGS_BLANK)
    for index, tag in enumerate(hashtags):
        if not valid_hashtag(tag.lstrip("#")):
            f.fail("hashtags", f"hashtag {describe(tag)} may use only letters, digits and _, "
                               f"and not only digits{_hashtag_hint(tag)}", index)
    tags = f.strings("tags")
    for index, tag in enumerate(tags):
        if not slugify(tag):
            f.fail("tags", f"tag {describe(tag)} has no letters or digits, so it cannot have "
                           "a page of its own; use a word", index)
    return tuple(t.lstrip("#") for t in hashtags), tuple(dict.fromkeys(tags))


def _date_field(f: _Fields, key: str, cfg: SiteConfig, required: bool = False
                ) -> datetime | None:
    value = f.data.get(key)
    if value is None:
        if required:
            f.fail(key, f"'{key}' is required: the publication date, like 2024-05-01")
        return None
    parsed = parse_date(value, cfg.tz)
    if parsed is None:
        f.fail(key, f"'{key}' must look like 2024-05-01 or 2024-05-01 09:30 "
                    f"(got {describe(value)}){_impossible_date(value)}")
    return parsed


def _impossible_date(value: Any) -> str:
    """Why a date written in the right shape is still not a real date ("" when not that)."""
    match = _DATE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return ""
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    if not 1 <= month <= 12:
        return f"; there is no month {month}"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"; {calendar.month_name[month]} {year} has {days} days"
    if hour > 23 or minute > 59 or second > 59:
        return "; the time must be between 00:00 and 23:59"
    return ""


def _hashtag_hint(tag: str) -> str:
    words = [w for w in re.split(r"[^\w]+", tag) if w]
    fixed = "".join(w[:1].upper() + w[1:] for w in words)
    return f"; try {fixed}" if valid_hashtag(fixed) else ""


def _check_image(f: _Fields, image: str, content_dir: Path) -> str:
    rel = PurePosixPath(image.lstrip("/"))
    if ".." in rel.parts or "://" in image:
        f.fail("image", f"'image' must be a file under content/, like images/photo.jpg "
                        f"(got {describe(image)})")
        return ""
    if not (content_dir / rel).is_file():
        folder = content_dir / rel.parent
        names = sorted(p.name for p in folder.iterdir() if p.is_file()) \
            if folder.is_dir() else []
        close = [n for n in names if n.casefold() == rel.name.casefold()] or \
            difflib.get_close_matches(rel.name, names, n=1, cutoff=0.6)
        hint = f"did you mean {rel.parent / close[0]}?" if close else \
            "check the name and that the file is in the images folder"
        f.fail("image", f"'image' file {rel} was not found in {content_dir.name}/; {hint}")
        return ""
    return str(rel)


def discover(content_dir: Path) -> Iterable[tuple[Path, PurePosixPath, Kind]]:
    """Every Markdown post and page, in a stable order."""
    for path, rel, kind in _sources(content_dir):
        yield Path(path), PurePosixPath(rel), kind


def _sources(content_dir: Path) -> Iterator[tuple[str, str, Kind]]:
    """(file path, path from the content folder, kind) of every post and page, in order of
    their folders and names; plain strings, as a rebuild looks at every one of them."""
    folders: tuple[tuple[str, Kind], ...] = (("posts", "post"), ("pages", "page"))
    for folder, kind in folders:
        found: list[tuple[list[str], str]] = []
        pending = [(folder, f"{content_dir}/{folder}")]
        while pending:
            rel, current = pending.pop()
            try:
                entries = list(os.scandir(current))
            except OSError:  # not there, or not a folder
                continue
            for entry in entries:
                name = f"{rel}/{entry.name}"
                if entry.is_dir():
                    pending.append((name, entry.path))
                elif (entry.name.endswith(".md") and not entry.name.startswith(".")
                      and entry.is_file()):
                    found.append((name.split("/"), entry.path))
        for parts, path in sorted(found):
            yield path, "/".join(parts), kind


Parsed = tuple[Post | None, list[Problem]]
Entry = tuple[str, str, Parsed]  # (size:mtime, content hash, what parsing gave)


def _parse_cache_key(cfg: SiteConfig) -> str:
    # A file parses the same way as long as it and the config are the same.
    # Posts carry their bodies' cache keys, which name the Markdown version too.
    return hashlib.sha256(f"{PARSE_VERSION}\0{MARKUP_VERSION}\0{cfg!r}".encode()).hexdigest()


def _still_valid(cfg: SiteConfig, result: Parsed) -> bool:
    """A parsed file may be reused unless the image it names has gone."""
    post = result[0]
    return post is None or not post.image or (cfg.content_dir / post.image).is_file()


_BATCH = 100
Bodies = Callable[[Sequence[tuple[Post, str]]], None]  # given each post parsed and its body


def _read_slice(cfg: SiteConfig, cached: dict[str, Entry], then: Bodies | None
                ) -> Callable[[Sequence[tuple[str, str, Kind, str]]], list[tuple[str, Parsed]]]:
    """Read, hash and (unless the bytes are those parsed last time) parse files; ``then``
    is given the posts parsed, with their bodies, in the same process."""
    def run(files: Sequence[tuple[str, str, Kind, str]]) -> list[tuple[str, Parsed]]:
        out: list[tuple[str, Parsed]] = []
        parsed: list[tuple[Post, str]] = []
        for path, rel, kind, _ in files:
            try:
                with open(path, "rb") as handle:  # noqa: PTH123 (a str path, no Path needed)
                    digest = hashlib.sha256(handle.read()).hexdigest()
            except OSError:
                digest = ""
            hit = cached.get(rel)
            if hit is not None and digest and hit[1] == digest and _still_valid(cfg, hit[2]):
                out.append((digest, hit[2]))
            else:
                post, problems, body = _parse(Path(path), PurePosixPath(rel), kind, cfg)
                out.append((digest, (post, problems)))
                if then is not None and post is not None:
                    parsed.append((post, body))
                    if len(parsed) == _BATCH:  # a batch at a time: bodies don't pile up
                        then(parsed)
                        parsed.clear()
        if then is not None and parsed:
            then(parsed)
        return out
    return run


def load_posts(cfg: SiteConfig, cache_file: Path | None = None,
               memory: dict[str, Any] | None = None, processes: int = 1,
               then: Bodies | None = None) -> tuple[tuple[Post, ...], list[Problem]]:
    """Parse every post and page; return the good ones and every problem found.

    With ``cache_file``, a file whose bytes (and the config) are unchanged since the last
    build is not parsed again; its image must still exist. Files to read are spread over
    ``processes``; ``then`` is given, in those processes, each post parsed with its body
    (to render it while it is at hand).
    """
    key = _parse_cache_key(cfg)
    if memory is not None and memory.get("key") == key:
        cached = memory["files"]
    else:
        cached = load_pickle(cache_file, key)
    fresh: dict[str, Entry] = {}
    todo: list[tuple[str, str, Kind, str]] = []
    for path, rel, kind in _sources(cfg.content_dir):
        hit = cached.get(rel)
        # Size and modification time first; only a file that was touched is read again.
        signature = stat_signature(path)
        if hit is not None and signature != "-" and hit[0] == signature \
                and _still_valid(cfg, hit[2]):
            fresh[rel] = hit
        else:
            todo.append((path, rel, kind, signature))
            fresh[rel] = ("", "", (None, []))  # keeps the walk's order; filled in below
    for (_, rel, _, signature), (digest, result) in zip(
            todo, map_shared(_read_slice(cfg, cached, then), todo, processes, minimum=200),
            strict=True):
        fresh[rel] = (signature, digest, result)
    posts: list[Post] = []
    problems: list[Problem] = []
    for _, _, (post, found) in fresh.values():
        problems.extend(found)
        if post is not None:
            posts.append(post)
    # A preview keeps the entries in memory and saves them once, when it starts: a later
    # build only parses again the files edited meanwhile.
    first = memory is None or memory.get("key") != key
    if cache_file is not None and first and fresh != cached:
        # Pickling 10000 posts takes ~0.3 s that the build need not wait for.
        in_background(functools.partial(save_pickle, cache_file, key, fresh))
    if memory is not None:
        memory.update(key=key, files=fresh)
    return tuple(posts), problems
