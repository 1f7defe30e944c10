"""Crawl a locally served site and report every link that does not lead anywhere.

Follows what a browser or feed reader would fetch from the site's own origin (anchors,
stylesheets, scripts, images and srcsets, share images, feeds, sitemap entries, CSS
``url()``), checks that each ``#fragment`` names an element on its target page, and records
links to other origins without fetching them.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

FETCH_TIMEOUT_SECONDS = 10
MAX_REDIRECTS = 5

# (tag, attribute) pairs whose value is one URL a browser fetches or navigates to.
URL_ATTRIBUTES = frozenset(
    {
        ("a", "href"),
        ("area", "href"),
        ("link", "href"),
        ("img", "src"),
        ("script", "src"),
        ("iframe", "src"),
        ("source", "src"),
        ("video", "src"),
        ("video", "poster"),
        ("audio", "src"),
        ("track", "src"),
        ("input", "src"),
    }
)
SRCSET_TAGS = frozenset({"img", "source"})
SHARE_IMAGE_META = frozenset({"og:image", "og:image:url", "twitter:image"})
# Elements of RSS, Atom and sitemaps whose text or ``href``/``url`` is a link.
XML_LINK_TEXT = frozenset({"link", "loc", "url", "icon", "logo"})
XML_LINK_ATTRIBUTES = frozenset({"href", "url"})
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


@dataclass(frozen=True, slots=True)
class Link:
    """One URL as written in a source document, and where."""

    source: str
    line: int
    href: str


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A link whose target is missing, unreadable, or lacks the ``#fragment`` it names."""

    source: str
    line: int
    href: str
    url: str
    reason: str

    def format(self) -> str:
        """``source:line: href -> reason`` for assertion messages."""
        return f"{self.source}:{self.line}: {self.href} -> {self.reason}"


@dataclass(frozen=True, slots=True)
class CrawlReport:
    """What a crawl saw: pages fetched, broken links, and links leaving the site."""

    pages: tuple[str, ...]
    broken: tuple[BrokenLink, ...]
    external: tuple[Link, ...]

    @property
    def external_urls(self) -> frozenset[str]:
        """Every distinct link to another origin (or another scheme such as ``mailto:``)."""
        return frozenset(link.href for link in self.external)

    def format_broken(self) -> str:
        """All broken links, one per line, for an assertion message."""
        return "\n".join(b.format() for b in self.broken)


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of fetching one URL (without fragment)."""

    status: int
    reason: str
    content_type: str = ""
    redirect: str | None = None
    ids: frozenset[str] = frozenset()
    links: tuple[Link, ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 or self.redirect is not None


class _LinkParser(HTMLParser):
    """Collects URL-bearing attributes, element ids and ``<base href>`` from one page."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.links: list[Link] = []
        self.ids: set[str] = set()
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        line = self.getpos()[0]
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        if tag == "base" and "href" in values and self.base is None:
            self.base = values["href"]
        for attribute, value in values.items():
            if (tag, attribute) in URL_ATTRIBUTES:
                self._add(line, value)
        if tag in SRCSET_TAGS and "srcset" in values:
            for candidate in srcset_urls(values["srcset"]):
                self._add(line, candidate)
        if tag == "meta" and "content" in values:
            key = values.get("property") or values.get("name") or ""
            if key.lower() in SHARE_IMAGE_META:
                self._add(line, values["content"])

    def _add(self, line: int, href: str) -> None:
        self.links.append(Link(self.source, line, href.strip()))


def srcset_urls(srcset: str) -> list[str]:
    """The URLs of a ``srcset`` value (``a.png 1x, b.png 2x`` → ``[a.png, b.png]``)."""
    urls = []
    for candidate in re.split(r",\s+|,$", srcset.strip()):
        parts = candidate.split()
        if parts:
            urls.append(parts[0].rstrip(","))
    return urls


def parse_html(url: str, text: str) -> tuple[frozenset[str], tuple[Link, ...], str]:
    """Ids, links and the base URL links resolve against, from one HTML page."""
    parser = _LinkParser(url)
    parser.feed(text)
    parser.close()
    base = urljoin(url, parser.base) if parser.base else url
    return frozenset(parser.ids), tuple(parser.links), base


def parse_xml(url: str, data: bytes) -> tuple[Link, ...]:
    """Links in an RSS or Atom feed or a sitemap; raises ``ET.ParseError`` if not well-formed."""
    # Our own build output from 127.0.0.1, so entity-expansion attacks are not a concern.
    root = ET.fromstring(data)
    links = []
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
        for attribute in XML_LINK_ATTRIBUTES & element.attrib.keys():
            links.append(Link(url, 0, element.attrib[attribute].strip()))
        text = (element.text or "").strip()
        if local in XML_LINK_TEXT and text and not len(element):
            links.append(Link(url, 0, text))
    return tuple(links)


def parse_css(url: str, text: str) -> tuple[Link, ...]:
    """``url(…)`` references in a stylesheet (fonts, background images)."""
    return tuple(
        Link(url, text.count("\n", 0, m.start()) + 1, m.group(2).strip())
        for m in CSS_URL.finditer(text)
    )


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _no_redirects() -> urllib.request.OpenerDirector:
    class Refuse(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(Refuse)


def fetch(opener: urllib.request.OpenerDirector, url: str) -> Fetched:
    """GET ``url`` and parse what it links to; redirects are reported, not followed."""
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            status, reason = response.status, response.reason
            ctype = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            body: bytes = response.read()
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        redirect = urljoin(url, location) if location else None
        return Fetched(exc.code, str(exc.reason), redirect=redirect)
    except (urllib.error.URLError, OSError) as exc:
        return Fetched(0, f"cannot fetch: {exc}")
    if ctype == "text/html":
        ids, links, base = parse_html(url, body.decode(charset, errors="replace"))
        return Fetched(status, reason, ctype, ids=ids, links=_rebased(links, base, url))
    if ctype.endswith("xml"):
        try:
            return Fetched(status, reason, ctype, links=parse_xml(url, body))
        except ET.ParseError as exc:
            return Fetched(0, f"not well-formed XML: {exc}", ctype)
    if ctype == "text/css":
        return Fetched(status, reason, ctype, links=parse_css(url, body.decode(charset, "replace")))
    return Fetched(status, reason, ctype)


def _rebased(links: tuple[Link, ...], base: str, url: str) -> tuple[Link, ...]:
    # A <base href> changes what relative links mean; resolve them now so callers need not.
    if base == url:
        return links
    return tuple(Link(link.source, link.line, urljoin(base, link.href)) for link in links)


def _apply_aliases(url: str, aliases: Mapping[str, str]) -> str:
    for published, local in aliases.items():
        if url.startswith(published):
            return local + url[len(published) :]
    return url


def crawl(
    start_url: str,
    *,
    same_origin_only: bool = True,
    aliases: Mapping[str, str] | None = None,
    max_pages: int = 5000,
) -> CrawlReport:
    """Fetch everything reachable from ``start_url`` and report broken and external links.

    ``aliases`` maps a published base URL (``https://example.github.io/equity-sel/``) to the
    local one, so absolute links in feeds, sitemaps and share tags are checked too. With
    ``same_origin_only=False`` every http(s) link is fetched, whatever its origin.
    """
    aliases = aliases or {}
    opener = _no_redirects()
    home = origin(start_url)
    fetched: dict[str, Fetched] = {}
    queue = deque([urldefrag(start_url).url])
    seen_links: list[tuple[Link, str]] = []
    external: list[Link] = []
    while queue and len(fetched) < max_pages:
        url = queue.popleft()
        if url in fetched:
            continue
        result = fetch(opener, url)
        fetched[url] = result
        followups = [Link(url, 0, result.redirect)] if result.redirect else []
        for link in (*result.links, *followups):
            target = _apply_aliases(urljoin(url, link.href), aliases)
            # mailto:, tel:, data: and other schemes are not ours to fetch; record them.
            elsewhere = same_origin_only and origin(target) != home
            if urlsplit(target).scheme not in ("http", "https") or elsewhere:
                external.append(link)
                continue
            seen_links.append((link, target))
            page = urldefrag(target).url
            if page not in fetched:
                queue.append(page)
    broken = [b for link, target in seen_links if (b := _check(link, target, fetched))]
    broken.sort(key=lambda b: (b.source, b.line, b.href))
    pages = sorted(u for u, f in fetched.items() if f.ok and f.redirect is None)
    return CrawlReport(tuple(pages), tuple(dict.fromkeys(broken)), tuple(dict.fromkeys(external)))


def _follow(url: str, fetched: Mapping[str, Fetched]) -> Iterator[tuple[str, Fetched]]:
    for _ in range(MAX_REDIRECTS + 1):
        result = fetched.get(url)
        if result is None:
            return
        yield url, result
        if result.redirect is None:
            return
        url = result.redirect


def _check(link: Link, target: str, fetched: Mapping[str, Fetched]) -> BrokenLink | None:
    page, fragment = urldefrag(target)
    chain = list(_follow(page, fetched))
    if not chain:
        return None  # not reached because max_pages stopped the crawl
    final_url, final = chain[-1]
    if final.redirect is not None:
        return BrokenLink(link.source, link.line, link.href, target, "too many redirects")
    if not final.ok:
        reason = f"{final.status} {final.reason}" if final.status else final.reason
        return BrokenLink(link.source, link.line, link.href, target, reason)
    name = unquote(fragment)
    # An empty fragment or "#top" scrolls to the top without a matching element (HTML spec).
    is_page = final.content_type == "text/html"
    if is_page and name and name.lower() != "top" and name not in final.ids:
        reason = f"no element with id {name!r} on {final_url}"
        return BrokenLink(link.source, link.line, link.href, target, reason)
    return None
