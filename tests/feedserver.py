"""A deliberately misbehaving feed server on 127.0.0.1, for the tests of ``generator.embeds``.

Every behaviour has its own path (``/good-rss``, ``/hang``, ``/gzip-bomb``…). A test that
needs one address to change behaviour (a good fetch, then a fault) uses ``/switch/<key>``
and :meth:`FeedServer.set`. Good feeds answer conditional GETs with 304, and every request
is logged with its headers. Slow behaviours stop as soon as the server closes, so the suite
never waits for them.
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

LAST_MODIFIED = "Sat, 28 Nov 2026 12:00:00 GMT"
BIG = 3 * 1024 * 1024  # more than the fetcher's 2 MB cap
BOMB = 64 * 1024 * 1024  # unpacked size of the gzip bomb; it travels as about 64 KB


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry; ``html`` goes into the description (or Atom content) as is."""

    title: str
    link: str
    html: str
    date: datetime | None
    extra: str = ""  # raw XML added inside the item


def rss(entries: Sequence[Entry], *, title: str = "Partner news",
        link: str = "https://partner.example/", namespaces: str = "") -> bytes:
    """An RSS 2.0 document; descriptions are CDATA, so their HTML arrives untouched."""
    items = []
    for e in entries:
        title_xml = f"<title>{escape(e.title)}</title>" if e.title else ""
        date_xml = f"<pubDate>{format_datetime(e.date)}</pubDate>" if e.date else ""
        link_xml = f"<link>{escape(e.link)}</link>" if e.link else ""
        items.append(f"<item>{title_xml}{link_xml}"
                     f"<description><![CDATA[{e.html}]]></description>{date_xml}{e.extra}"
                     "</item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"{namespaces}><channel>'
            f"<title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<description>Test feed</description>{''.join(items)}</channel></rss>").encode()


def atom(entries: Sequence[Entry], *, title: str = "Partner posts",
         link: str = "https://atom.example/") -> bytes:
    """An Atom 1.0 document with HTML content."""
    parts = []
    for i, e in enumerate(entries):
        when = (e.date or datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
        parts.append(f"<entry><id>urn:test:{i}</id><title>{escape(e.title)}</title>"
                     f'<link rel="alternate" href="{escape(e.link)}"/><updated>{when}</updated>'
                     f'<content type="html">{escape(e.html)}</content>{e.extra}</entry>')
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f'<title>{escape(title)}</title><link rel="alternate" href="{escape(link)}"/>'
            f"<id>urn:test</id><updated>2026-11-28T12:00:00Z</updated>{''.join(parts)}"
            "</feed>").encode()


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 12, 0, tzinfo=UTC)


GOOD_ENTRIES = (
    Entry("Middle story", "https://partner.example/news/middle", "<p>The <em>middle</em> one.</p>",
          day(20)),
    Entry("Newest story", "/news/newest", "<p>Read <a href='/news/more'>more</a> here.</p>",
          day(25)),
    Entry("Oldest story", "https://partner.example/news/oldest", "<p>The oldest.</p>", day(2)),
)
GOOD_RSS = rss(GOOD_ENTRIES)
GOOD_ATOM = atom(GOOD_ENTRIES)
BLUESKY_RSS = rss(
    [Entry("", "https://bsky.app/profile/team.bsky.social/post/3kb",
           "Circle time today.\nEvery voice counts <3 & matters", day(24)),
     Entry("", "https://bsky.app/profile/team.bsky.social/post/3ka", "An older post", day(21))],
    title="@team.bsky.social", link="https://bsky.app/profile/team.bsky.social")
MASTODON_RSS = rss(
    [Entry("", "https://district.social/@team/111",
           '<p>Our <a href="/tags/sel">#sel</a> week</p>', day(22),
           '<media:content url="https://files.district.social/a.jpg" type="image/jpeg" '
           'medium="image"><media:description type="plain">Students sit in a circle'
           "</media:description></media:content>"),
     Entry("", "https://district.social/@team/110", "<p>Plain http image</p>", day(21),
           '<media:content url="http://files.district.social/b.jpg" type="image/jpeg" '
           'medium="image"/>')],
    link="https://district.social/@team", namespaces=' xmlns:media="http://search.yahoo.com/mrss/"')
MALFORMED = (b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken</title>\n'
             b"<item><title>One</title><link>https://partner.example/1</link></item>\n"
             b"<item><title>Two</title></itm>\n</channel></rss>")
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>"
             b"<h1>Our new website</h1><p>We moved things around.<br></body></html>")
# UTF-8 labelled US-ASCII and served as text/plain: feedparser recovers from both.
MISLABELLED = rss([Entry("Caf\u00e9 talk", "https://partner.example/cafe", "<p>Caf\u00e9</p>",
                         day(23))]).replace(b'encoding="UTF-8"', b'encoding="us-ascii"')


@dataclass(frozen=True, slots=True)
class Seen:
    """A request the server received."""

    path: str
    headers: Mapping[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 would drop the concurrent test's connections
    owner: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up on purpose (size caps, deadlines): that is the point, not an error.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.record(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        name = self.path.lstrip("/")
        if name.startswith("switch/"):
            name = owner.mode(name.removeprefix("switch/"))
        behaviour = owner.behaviours.get(name.split("?")[0])
        if name.startswith("chain-") and name[6:].isdigit():  # chain-N: N redirects, a feed
            hops = int(name[6:])
            if hops:
                self.redirect(f"/chain-{hops - 1}")
            else:
                self.feed(GOOD_RSS)
        elif behaviour is None:
            self.send_error(404)
        else:
            behaviour(self)

    # Building blocks for behaviours.

    def send(self, body: bytes, content_type: str = "application/rss+xml; charset=utf-8",
             status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def feed(self, body: bytes, content_type: str = "application/rss+xml; charset=utf-8"
             ) -> None:
        """A good feed, with an ETag and Last-Modified, answering 304 when they match."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag or \
                self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send(body, content_type, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def trickle(self, first: bytes, then: bytes, every: float) -> None:
        """Write ``first``, then ``then`` every ``every`` seconds until the client gives up."""
        stop = self.server.owner.stopping
        try:
            self.wfile.write(first)
            self.wfile.flush()
            while not stop.wait(every):
                self.wfile.write(then)
                self.wfile.flush()
        except OSError:
            pass


def _hang(h: _Handler) -> None:
    h.server.owner.stopping.wait(60)


def _endless(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.end_headers()
    h.trickle(b'<?xml version="1.0"?><rss version="2.0"><channel>', b"<!-- more -->" * 5000,
              0.0001)


def _drip(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.end_headers()
    h.trickle(b"<", b" ", 0.5)


def _slow_headers(h: _Handler) -> None:
    h.trickle(b"HTTP/1.0 200 OK\r\nX-Slow: ", b"a", 0.3)


def _huge(h: _Handler) -> None:
    h.send_response(200)  # no Content-Length: only counting while streaming can stop it
    h.send_header("Content-Type", "application/rss+xml")
    h.end_headers()
    body = GOOD_RSS.replace(b"</channel>", b"<!--" + b"x" * BIG + b"--></channel>")
    with suppress(OSError):
        h.wfile.write(body)


def _huge_declared(h: _Handler) -> None:
    h.send_response(200)  # says 3 MB up front: the fetcher should not even start reading
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", str(BIG))
    h.end_headers()
    h.trickle(b"<", b" " * 1024, 0.01)


def _gzip_bomb(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Encoding", "gzip")
    h.end_headers()
    with suppress(OSError):
        h.wfile.write(h.server.owner.bomb())


def _packed(body: bytes, encoding: str) -> Callable[[_Handler], None]:
    # gzip, or raw deflate (no zlib header) as some servers send for "deflate"
    packer = zlib.compressobj(wbits=31 if encoding == "gzip" else -15)
    packed = packer.compress(body) + packer.flush()
    return lambda h: h.send(packed, headers={"Content-Encoding": encoding})


def _behaviours() -> dict[str, Callable[[_Handler], None]]:
    return {
        "good-rss": lambda h: h.feed(GOOD_RSS),
        "good-atom": lambda h: h.feed(GOOD_ATOM, "application/atom+xml"),
        "bluesky": lambda h: h.feed(BLUESKY_RSS, "application/rss+xml"),
        "mastodon": lambda h: h.feed(MASTODON_RSS),
        "mislabelled": lambda h: h.feed(MISLABELLED, "text/plain"),
        "good-gzip": _packed(GOOD_RSS, "gzip"),
        "good-deflate": _packed(GOOD_RSS, "deflate"),
        "status-500": lambda h: h.send(b"oops", "text/plain", status=500),
        "status-404": lambda h: h.send(b"gone", "text/plain", status=404),
        "hang": _hang,
        "endless": _endless,
        "drip": _drip,
        "slow-headers": _slow_headers,
        "malformed": lambda h: h.send(MALFORMED),
        "html": lambda h: h.send(HTML_PAGE, "text/html; charset=utf-8"),
        "empty": lambda h: h.send(b""),
        "huge": _huge,
        "huge-declared": _huge_declared,
        "gzip-bomb": _gzip_bomb,
        "loop-a": lambda h: h.redirect("/loop-b"),
        "loop-b": lambda h: h.redirect("/loop-a"),
        "to-ftp": lambda h: h.redirect("ftp://127.0.0.1/feed.xml"),
        "to-javascript": lambda h: h.redirect("javascript:alert(1)"),
        "redirect-good": lambda h: h.redirect("/good-rss"),
        "brotli": lambda h: h.send(b"\x8b\x00\x80", headers={"Content-Encoding": "br"}),
        "not-modified": lambda h: (h.send_response(304), h.end_headers()),
    }


class FeedServer:
    """The server and what it has seen; use :func:`serve` to run one."""

    def __init__(self) -> None:
        self.behaviours = _behaviours()
        self.stopping = threading.Event()
        self.seen: list[Seen] = []
        self._modes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._bomb = b""
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/{path.lstrip('/')}"

    def set(self, key: str, behaviour: str) -> str:
        """Make ``/switch/<key>`` behave as ``behaviour``; returns its URL."""
        with self._lock:
            self._modes[key] = behaviour
        return self.url(f"switch/{key}")

    def mode(self, key: str) -> str:
        with self._lock:
            return self._modes.get(key, "status-404")

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def bomb(self) -> bytes:
        """Made on first use (about 0.1 s): 64 MB of spaces, gzipped to about 64 KB."""
        with self._lock:
            if not self._bomb:
                packer = zlib.compressobj(9, wbits=31)
                chunk = b" " * (1024 * 1024)
                parts = [packer.compress(b'<?xml version="1.0"?><rss version="2.0">')]
                parts += [packer.compress(chunk) for _ in range(BOMB // len(chunk))]
                self._bomb = b"".join(parts) + packer.flush()
            return self._bomb


@contextmanager
def serve() -> Iterator[FeedServer]:
    """A running :class:`FeedServer`; on exit, slow behaviours stop and the port closes."""
    server = FeedServer()
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              name="feedserver", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)
        time.sleep(0.05)  # let handler threads notice the stop and hang up
