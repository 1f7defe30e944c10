"""Social and partner feeds, fetched at build time and embedded as plain, safe HTML.

Each ``feeds:`` entry in site.yaml is an http(s) feed (Bluesky profile RSS, Mastodon,
YouTube, a partner's RSS or Atom) or a feed file under ``content/``. Remote feeds are fetched
all at once, so the whole step takes at most the deadline (15 s) plus half a second, whatever
the servers do; :mod:`generator.fetch` has the limits on each download (2 MB, also once
unpacked; 5 redirects; http and https only). A site with no remote feed loads no HTTP client.
A preview's rebuilds reuse each remote feed's answer for 10 minutes (:class:`FeedMemo`).

What counts as a good copy, a failure and a fallback:

- A feed is *good* when feedparser recognises RSS or Atom in it and finds no XML error. An
  error feedparser recovers from without loss (a wrong or missing charset or content type)
  still counts as good when the feed has entries. A feed that is not well-formed XML counts
  as failed even if some entries could be read, since a cut-off download looks just like
  that; so does an HTML page, an empty answer, or anything that is not RSS or Atom.
- Each good copy of a remote feed is kept in the cache folder (``.cache/feeds``: the bytes,
  plus ETag, Last-Modified and when it was fetched) and sent back as a conditional GET; a
  ``304 Not Modified`` answer reuses the copy and counts as fresh. A copy is only reused for
  the same URL: changing a feed's ``url`` starts afresh.
- When a fetch fails (time-out, HTTP error, too large, a redirect loop, not a feed…) the build
  goes on with the last good copy, marked stale, and one warning names the feed, the reason
  and the date of the copy; with no copy, the feed is left out. ``--strict`` turns these
  warnings into errors. Offline builds use the saved copies alone (marked stale, without
  warnings; a feed never saved gets a warning); feed files under ``content/`` are always
  read, never cached, and a broken one is reported at its own file and line.

Everything in a feed is untrusted. Titles and excerpts are plain text for the theme to escape.
Kept HTML is cleaned with nh3 down to p, br, a, em, strong, ul, ol, li, blockquote and code;
links must be http(s) and carry ``rel="nofollow noopener ugc"`` (:data:`LINK_REL`, for the
theme's own links to feed items too); images must be https. A post without markup (Bluesky)
keeps its line breaks.

X has no feed, and its widget tracks readers, so :func:`x_embed_html` makes a plain link that
``themes/default/static/x-embed.js`` turns into X's widget only when the reader presses
"Load this post from X (X may track you)". Nothing is requested from X before that.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
import time
import xml.sax
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

from .config import CONFIG_NAME, FeedSource
from .errors import Problem, Severity
from .fetch import (
    MAX_BYTES,
    CachedCopy,
    FeedCache,
    Fetched,
    Fetcher,
    FetchError,
    Validators,
    fetch_all,
)

log = logging.getLogger(__name__)

LINK_REL = "nofollow noopener ugc"
PREVIEW_REFRESH_SECONDS = 600.0  # a preview fetches each remote feed again at most this often
EXCERPT_CHARS = 280
_TAGS = frozenset({"p", "br", "a", "em", "strong", "ul", "ol", "li", "blockquote", "code"})
_DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "svg", "math", "noscript", "xmp",
                                "template", "object", "embed", "textarea", "select", "title",
                                "noembed", "noframes", "applet", "audio", "video", "canvas"})
_BLOCKS = frozenset({"p", "br", "li", "ul", "ol", "blockquote", "div", "h1", "h2", "h3", "tr"})
_MARKUP = re.compile(r"<[A-Za-z/!?]|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL: java\tscript:
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))  # and these at either end


@dataclass(frozen=True, slots=True)
class EmbedItem:
    """One post or article from a feed; all fields are safe to hand to the theme."""

    title: str  # plain text, may be "" (Bluesky and Mastodon posts have none)
    text: str  # plain-text excerpt, at most about 280 characters
    html: str  # sanitized HTML of the summary or content, or ""
    link: str  # http(s) only, else ""
    date: datetime | None  # timezone-aware UTC
    image: str  # https only, else ""
    image_alt: str  # "" when the feed gives none: the image is then decorative


@dataclass(frozen=True, slots=True)
class EmbedFeed:
    """A feed ready to embed: its newest items, and how fresh this copy is."""

    id: str
    title: str
    link: str  # the account or site (FeedSource.link, else the feed's own link), http(s)
    items: tuple[EmbedItem, ...]  # newest first, at most FeedSource.limit
    fetched_at: datetime | None  # when this copy was fetched; None for files under content/
    stale: bool  # True when this is the last good copy because it could not be fetched now


@dataclass(frozen=True, slots=True)
class EmbedResult:
    """What :func:`load_embeds` found: the usable feeds, and what went wrong with the rest."""

    feeds: Mapping[str, EmbedFeed]  # by feed id; a feed with no good copy ever is absent
    problems: tuple[Problem, ...]  # one per failed feed (errors instead of warnings if strict)


@dataclass(slots=True)
class FeedMemo:
    """What a preview (``serve``) last got for each remote feed, kept ``refresh`` seconds: its
    rebuilds use that instead of asking the servers again at every save, as Hugo's server and
    Eleventy's fetch cache do. A feed is fetched again once its answer is older, or when its
    entry in site.yaml changes (it is then another source). A failure is kept too, with its
    warning, so a hanging server costs one deadline per ``refresh``, not one per save."""

    refresh: float = PREVIEW_REFRESH_SECONDS
    clock: Callable[[], float] = time.monotonic
    _kept: dict[tuple[FeedSource, bool],
                tuple[float, EmbedFeed | None, tuple[Problem, ...]]] = field(default_factory=dict)

    def recall(self, source: FeedSource, strict: bool
               ) -> tuple[EmbedFeed | None, tuple[Problem, ...]] | None:
        """The answer kept for the source (as one build saw it), while it is recent enough."""
        kept = self._kept.get((source, strict))
        if kept is None or self.clock() - kept[0] >= self.refresh:
            return None
        return kept[1], kept[2]

    def keep(self, source: FeedSource, strict: bool, feed: EmbedFeed | None,
             problems: Sequence[Problem], at: float) -> None:
        self._kept[(source, strict)] = (at, feed, tuple(problems))


class FeedUnusable(Exception):
    """Bytes that are not a usable feed; ``str(exc)`` says why, ``line`` where if known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.line = line


def safe_url(raw: str, base: str = "", schemes: tuple[str, ...] = ("http", "https")) -> str:
    """``raw`` made absolute against ``base`` if it uses one of ``schemes``, else ``""``."""
    url = _URL_NOISE.sub("", raw).strip(_C0_AND_SPACE)
    if not url:
        return ""  # not the base itself, which is what joining "" would give
    url = urljoin(base, url) if base else url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in schemes or not parts.hostname:
        return ""
    return url.replace(" ", "%20")


def _check_attribute(element: str, attribute: str, value: str) -> str | None:
    # nh3 also checks schemes; this second look costs nothing and doesn't depend on its order.
    if attribute != "href":
        return value
    cleaned = _URL_NOISE.sub("", value).strip()
    scheme = cleaned.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][\w+.-]*:", cleaned) else ""
    return cleaned if scheme in ("", "http", "https") else None


def sanitize_html(raw: str, base: str = "") -> str:
    """Untrusted HTML cut down to a few inline and list tags; relative links made absolute."""
    base = safe_url(base)
    import nh3  # noqa: PLC0415 (loaded only when a feed has HTML to clean)

    return nh3.clean(raw, tags=set(_TAGS), clean_content_tags=set(_DROP_WITH_CONTENT),
                     attributes={"a": {"href"}}, attribute_filter=_check_attribute,
                     strip_comments=True, link_rel=LINK_REL, url_schemes={"http", "https"},
                     url_relative=("rewrite_with_base", base) if base else "deny")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, [])

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _fold(text: str) -> str:
    return " ".join(text.split())


def plain_text(html: str) -> str:
    """The words of an HTML fragment: tags gone, entities decoded, whitespace folded."""
    parser = _TextOf()
    parser.feed(sanitize_html(html))
    parser.close()
    return _fold("".join(parser.parts))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` folded and, if longer than ``limit``, cut on a word boundary with "…"."""
    text = _fold(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def _body(entry: Any, base: str) -> tuple[str, str]:
    """(excerpt, sanitized html) of an entry's summary, else its content."""
    detail = entry.get("summary_detail") or next(iter(entry.get("content") or []), None) or {}
    value = str(detail.get("value") or "")
    if detail.get("type") == "text/plain" or not _MARKUP.search(value):
        paragraphs = [p for p in re.split(r"\n\s*\n", value.strip()) if p.strip()]
        html = "".join("<p>" + "<br>".join(escape(line.strip(), quote=False)
                                            for line in p.strip().splitlines()) + "</p>"
                       for p in paragraphs)
        return excerpt(value), html
    html = sanitize_html(value, base)
    return excerpt(plain_text(html)), html


def _image(entry: Any, base: str) -> tuple[str, str]:
    thumbnails = [(t.get("url", ""), "") for t in entry.get("media_thumbnail") or []]
    # Mastodon's alt text (media:description) lands in `content` as the one plain-text part.
    notes = [c.get("value", "") for c in entry.get("content") or [] if c.get("type") ==
             "text/plain"]
    alt = _fold(notes[0])[:500] if entry.get("summary") and len(notes) == 1 else ""
    media = [(m.get("url", ""), alt) for m in entry.get("media_content") or []
             if m.get("medium") == "image" or str(m.get("type", "")).startswith("image/")]
    enclosures = [(e.get("href", ""), "") for e in entry.get("enclosures") or []
                  if str(e.get("type", "")).startswith("image/")]
    for url, text in (*thumbnails, *media, *enclosures):
        if found := safe_url(str(url), base, schemes=("https",)):
            return found, text
    return "", ""


def _date(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None
    except (TypeError, ValueError, OverflowError):
        return None


def _item(entry: Any, base: str) -> EmbedItem:
    link = safe_url(str(entry.get("link", "")), base)
    title_detail = entry.get("title_detail") or {}
    title = str(entry.get("title", ""))
    title = plain_text(title) if "html" in str(title_detail.get("type", "")) else _fold(title)
    text, html = _body(entry, link or base)
    image, image_alt = _image(entry, base)
    return EmbedItem(title, text, html, link, _date(entry), image, image_alt)


def parse_feed(body: bytes, *, url: str = "", content_type: str = "",
               limit: int = 50) -> tuple[str, tuple[EmbedItem, ...]]:
    """(the feed's own link, its newest ``limit`` items); raises FeedUnusable if no feed."""
    import feedparser  # noqa: PLC0415 (slow to load; a site without feeds never needs it)

    headers = {"content-location": url} if url else {}
    headers["content-type"] = content_type or "application/xml"
    # feedparser only parses here: given a URL it would fetch with no time or size limit.
    # Its sanitizer lets script through, so HTML is cleaned by nh3 instead.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers,
                              sanitize_html=False, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and not isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe):
        if _looks_like_html(body, content_type):
            raise FeedUnusable("the address gave a web page, not a feed")
        if isinstance(problem, xml.sax.SAXParseException):
            raise FeedUnusable(f"the feed is not well-formed XML: {problem.getMessage()} on "
                               f"line {problem.getLineNumber()}", problem.getLineNumber())
        raise FeedUnusable(f"the feed could not be read: {problem}")
    if not parsed.get("version"):
        raise FeedUnusable("the address gave a web page, not a feed"
                           if _looks_like_html(body, content_type)
                           else "the answer is not an RSS or Atom feed")
    if problem is not None and not parsed.entries:
        raise FeedUnusable(f"the feed has no entries and could not be read cleanly: {problem}")
    ranked = sorted(((_date(e), i, e) for i, e in enumerate(parsed.entries)),
                    key=lambda t: (t[0] is not None, t[0] or datetime.min.replace(tzinfo=UTC),
                                   -t[1]), reverse=True)
    items = tuple(_item(e, url) for _, _, e in ranked[:limit])
    return safe_url(str(parsed.feed.get("link", "")), url), items


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


def _problem(strict: bool, path: Path, message: str, line: int | None = None) -> Problem:
    return Problem(path, line, message, Severity.ERROR if strict else Severity.WARNING)


def _feed(source: FeedSource, copy: CachedCopy, stale: bool) -> EmbedFeed:
    link, items = parse_feed(copy.body, url=copy.location, content_type=copy.content_type,
                             limit=source.limit)
    return EmbedFeed(source.id, source.title, source.link or link, items, copy.fetched_at,
                     stale)


def _from_copy(source: FeedSource, cached: CachedCopy | None) -> EmbedFeed | None:
    if cached is None:
        return None
    try:
        return _feed(source, cached, stale=True)
    except FeedUnusable:
        log.debug("feed %s: the saved copy is unusable", source.id)
        return None


def _fresh(source: FeedSource, cache: FeedCache, cached: CachedCopy | None, answer: Fetched,
           now: datetime, config: Path) -> tuple[EmbedFeed, list[Problem]]:
    """The feed from a fresh answer (or a 304 and the saved copy), saved for next time."""
    if answer.body is not None:
        copy = CachedCopy(source.url, answer.url, answer.body, answer.content_type, now,
                          Validators(answer.etag, answer.last_modified))
    elif cached is not None:
        copy = CachedCopy(source.url, cached.location, cached.body, cached.content_type, now,
                          Validators(answer.etag or cached.validators.etag,
                                     answer.last_modified or cached.validators.last_modified))
    else:
        raise FeedUnusable("the server answered 304 Not Modified, but there is no saved copy")
    feed = _feed(source, copy, stale=False)
    log.debug("feed %s: %s", source.id, "fetched" if answer.body else "not modified")
    try:
        cache.save(source.id, copy, body_changed=answer.body is not None)
    except OSError as exc:
        return feed, [_problem(False, config, f"feed '{source.id}' was fetched but could not "
                               f"be saved in {cache.folder} ({exc})")]
    return feed, []


def _remote(source: FeedSource, cache: FeedCache, cached: CachedCopy | None,
            answer: Fetched | FetchError | None, now: datetime, strict: bool,
            config: Path) -> tuple[EmbedFeed | None, list[Problem]]:
    """The feed from a good fresh answer, else from the last good copy; no answer: offline."""
    if answer is None:
        if feed := _from_copy(source, cached):
            return feed, []
        return None, [_problem(strict, config, f"feed '{source.id}' has no saved copy to use "
                               "offline; it is left out (build once online to save one)")]
    if isinstance(answer, FetchError):
        reason = str(answer)
    else:
        try:
            return _fresh(source, cache, cached, answer, now, config)
        except FeedUnusable as exc:
            reason = str(exc)
    stale = _from_copy(source, cached)
    using = (f"using the copy from {stale.fetched_at:%Y-%m-%d}" if stale and stale.fetched_at
             else "it is left out until a fetch succeeds")
    return stale, [_problem(strict, config, f"feed '{source.id}' could not be fetched "
                            f"({reason}); {using}")]


def _local(source: FeedSource, content_dir: Path, strict: bool,
           config: Path) -> tuple[EmbedFeed | None, list[Problem]]:
    """A feed file under ``content/``: read every build, online or not, never cached."""
    path = content_dir / source.url
    try:
        if not path.resolve().is_relative_to(content_dir.resolve()):
            raise FeedUnusable("it points outside the content folder")
        with path.open("rb") as f:
            body = f.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise FeedUnusable(f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
        link, items = parse_feed(body, url=source.link, limit=source.limit)
    except FileNotFoundError:
        return None, [_problem(strict, config, f"feed '{source.id}': there is no file "
                               f"{source.url} in the content folder; it is left out")]
    except OSError as exc:
        return None, [_problem(strict, path, f"feed '{source.id}' could not be read "
                               f"({exc.strerror or exc}); it is left out")]
    except FeedUnusable as exc:
        return None, [_problem(strict, path, f"feed '{source.id}' could not be read ({exc}); "
                               "it is left out", exc.line)]
    return EmbedFeed(source.id, source.title, source.link or link, items, None, False), []


def _is_remote(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def load_embeds(sources: Sequence[FeedSource], *, content_dir: Path, cache_dir: Path,
                offline: bool = False, strict: bool = False, deadline: float = 15.0,
                fetcher: Fetcher | None = None,
                clock: Callable[[], datetime] | None = None,
                memo: FeedMemo | None = None) -> EmbedResult:
    """Every feed, fresh where it can be fetched within ``deadline`` seconds, else from cache.
    With ``memo`` (a preview's), a remote feed answered recently is not asked again."""
    config = content_dir / CONFIG_NAME
    cache = FeedCache(cache_dir)
    now = clock() if clock else datetime.now(UTC)
    memo = None if offline else memo  # offline reads the saved copies anyway
    recent = {s.id: known for s in sources if _is_remote(s.url) and memo
              and (known := memo.recall(s, strict)) is not None}
    cached = {s.id: cache.load(s.id, s.url) for s in sources
              if _is_remote(s.url) and s.id not in recent}
    answers: Mapping[str, Fetched | FetchError] = {}
    asked = memo.clock() if memo else 0.0  # when these answers were asked for
    if not offline and cached:
        jobs = [(s.id, s.url, c.validators if (c := cached[s.id]) else Validators())
                for s in sources if s.id in cached]
        if fetcher is None:
            from .http import HttpFetcher  # noqa: PLC0415 (httpx loads slowly; offline needs none)
            fetcher = HttpFetcher()
        answers = fetch_all(jobs, fetcher, deadline)
    feeds: dict[str, EmbedFeed] = {}
    problems: list[Problem] = []
    for source in sources:
        found: Sequence[Problem]
        if source.id in recent:
            feed, found = recent[source.id]
        elif _is_remote(source.url):
            feed, found = _remote(source, cache, cached[source.id], answers.get(source.id), now,
                                  strict, config)
            if memo is not None:
                memo.keep(source, strict, feed, found, asked)
        else:
            feed, found = _local(source, content_dir, strict, config)
        problems += found
        if feed is not None:
            feeds[source.id] = feed
    return EmbedResult(MappingProxyType(feeds), tuple(problems))


_X_HOSTS = frozenset({"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com",
                      "mobile.twitter.com"})
_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
_X_NOT_PROFILES = frozenset({"home", "explore", "search", "i", "intent", "share", "settings",
                             "messages", "notifications", "hashtag", "login", "signup", "tos",
                             "privacy", "compose", "logout", "account"})


def x_embed_html(url: str, *, label: str = "") -> str:
    """Click-to-load HTML for an X post or profile: a plain link until the reader asks for more.

    ``themes/default/static/x-embed.js`` adds a "Load this post from X (X may track you)"
    button and loads X's widget only when it is pressed. Raises ValueError for anything but
    an https://x.com/… or https://twitter.com/… post or profile address.
    """
    expected = ("an X embed needs the https://x.com/… (or https://twitter.com/…) address of a "
                f"post or a profile, like https://x.com/CCPSEquity/status/123; got {url!r}")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(expected) from exc
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or host not in _X_HOSTS or port or parts.username is not None:
        raise ValueError(expected)
    segments = [s for s in parts.path.split("/") if s]
    if not segments or not _X_HANDLE.fullmatch(segments[0]) or \
            segments[0].lower() in _X_NOT_PROFILES:
        raise ValueError(expected)
    handle = segments[0]
    if len(segments) == 1:
        kind, post, canonical = "profile", "", f"https://x.com/{handle}"
        text = label or f"See @{handle}'s posts on X"
    elif len(segments) in (3, 5) and segments[1] in ("status", "statuses") and \
            segments[2].isascii() and segments[2].isdigit() and \
            (len(segments) == 3 or segments[3] in ("photo", "video")):
        post = segments[2]
        kind, canonical = "post", f"https://x.com/{handle}/status/{post}"
        text = label or f"See this post by @{handle} on X"
    else:
        raise ValueError(expected)
    post_attr = f' data-x-post="{post}"' if post else ""
    return (f'<figure class="x-embed" data-x-embed="{kind}" data-x-handle="{handle}"'
            f'{post_attr}><p class="x-embed-link"><a href="{canonical}" rel="noopener">'
            f"{escape(text)}</a></p></figure>")
