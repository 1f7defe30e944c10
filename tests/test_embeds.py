"""Feeds embedded at build time: fetched against a misbehaving local server, never trusted.

Every fault runs the same story a real build would: a good fetch fills the cache, then the
server misbehaves, and the build goes on with the last good copy and one warning, in
bounded time. The XSS corpus is checked on the HTML itself and then in Chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from generator import __version__
from generator.build import BuildOptions, BuildState, build
from generator.config import FeedSource
from generator.embeds import (
    LINK_REL,
    EmbedItem,
    EmbedResult,
    FeedMemo,
    excerpt,
    load_embeds,
    safe_url,
    x_embed_html,
)
from generator.errors import Severity
from generator.fetch import Fetched, Fetcher, FetchError, Validators, user_agent
from generator.http import HttpFetcher
from tests import feedserver
from tests.feedserver import Entry, FeedServer, day, rss

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Route

DEADLINE = 2.0  # seconds; short so the suite stays fast, long enough for a loaded CI box
SLACK = 2.0  # what a bounded fetch may take beyond the deadline on a busy 2-core CI box
FIRST = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "content"
LATER = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with feedserver.serve() as running:
        yield running


def load(root: Path, *sources: FeedSource, when: datetime = FIRST, offline: bool = False,
         strict: bool = False, deadline: float = DEADLINE,
         fetcher: Fetcher | None = None, memo: FeedMemo | None = None) -> EmbedResult:
    """``load_embeds`` as the build calls it, with content/ and .cache/feeds under ``root``."""
    return load_embeds(sources, content_dir=root / "content", cache_dir=root / ".cache" / "feeds",
                       offline=offline, strict=strict, deadline=deadline, fetcher=fetcher,
                       clock=lambda: when, memo=memo)


def feed(feed_id: str, url: str, limit: int = 5, link: str = "") -> FeedSource:
    return FeedSource(feed_id, f"The {feed_id} feed", url, limit, link)


# Good feeds.


def test_rss_items_come_newest_first_with_safe_fields(server: FeedServer, tmp_path: Path) -> None:
    result = load(tmp_path, feed("partner", server.url("good-rss"), limit=2))
    assert result.problems == ()
    got = result.feeds["partner"]
    assert (got.id, got.title, got.link) == ("partner", "The partner feed",
                                             "https://partner.example/")
    assert (got.stale, got.fetched_at) == (False, FIRST)
    assert [i.title for i in got.items] == ["Newest story", "Middle story"]  # limit 2 of 3
    newest = got.items[0]
    assert newest.date == day(25) and newest.date.tzinfo is UTC
    assert newest.link == server.url("news/newest")  # relative, resolved against the feed
    assert newest.text == "Read more here."
    assert newest.html == (f'<p>Read <a href="{server.url("news/more")}" rel="{LINK_REL}">'
                           "more</a> here.</p>")


def test_atom_and_a_configured_link(server: FeedServer, tmp_path: Path) -> None:
    source = feed("atom", server.url("good-atom"), link="https://partner.example/about/")
    got = load(tmp_path, source).feeds["atom"]
    assert got.link == "https://partner.example/about/"  # the writer's link wins
    assert [i.date for i in got.items] == [day(25), day(20), day(2)]
    assert got.items[1].html == "<p>The <em>middle</em> one.</p>"


def test_bluesky_posts_without_titles_keep_their_lines(server: FeedServer,
                                                       tmp_path: Path) -> None:
    got = load(tmp_path, feed("bsky", server.url("bluesky"))).feeds["bsky"]
    post = got.items[0]
    assert post.title == ""
    assert post.text == "Circle time today. Every voice counts <3 & matters"
    assert post.html == "<p>Circle time today.<br>Every voice counts &lt;3 &amp; matters</p>"
    assert post.link == "https://bsky.app/profile/team.bsky.social/post/3kb"
    assert got.link == "https://bsky.app/profile/team.bsky.social"


def test_mastodon_images_are_https_only_and_keep_their_alt_text(server: FeedServer,
                                                                tmp_path: Path) -> None:
    items = load(tmp_path, feed("masto", server.url("mastodon"))).feeds["masto"].items
    assert (items[0].image, items[0].image_alt) == ("https://files.district.social/a.jpg",
                                                    "Students sit in a circle")
    assert 'href="https://district.social/tags/sel"' in items[0].html  # resolved on the post
    assert (items[1].image, items[1].image_alt) == ("", "")  # http:// image dropped


@pytest.mark.parametrize("behaviour", ["good-gzip", "good-deflate", "redirect-good", "chain-5",
                                       "mislabelled"])
def test_compressed_redirected_and_recoverable_feeds_are_good(server: FeedServer, tmp_path: Path,
                                                              behaviour: str) -> None:
    result = load(tmp_path, feed("f", server.url(behaviour)))
    assert result.problems == ()
    assert result.feeds["f"].items and not result.feeds["f"].stale


def test_requests_name_the_project_and_ask_conditionally(server: FeedServer,
                                                         tmp_path: Path) -> None:
    url = server.set("conditional", "good-rss")
    load(tmp_path, feed("c", url))
    second = load(tmp_path, feed("c", url), when=LATER)
    first_request, second_request = server.requests_to("/switch/conditional")
    assert first_request.headers["user-agent"] == user_agent()
    assert user_agent().startswith(f"campaign-microsite/{__version__} (+https://")
    assert "if-none-match" not in first_request.headers
    assert second_request.headers["if-none-match"].startswith('"')
    assert second_request.headers["if-modified-since"] == feedserver.LAST_MODIFIED
    got = second.feeds["c"]  # the server said 304: the saved copy, and it counts as fresh
    assert second.problems == ()
    assert (got.stale, got.fetched_at, len(got.items)) == (False, LATER, 3)
    meta = json.loads((tmp_path / ".cache/feeds/c.json").read_text())
    assert meta["fetched_at"] == LATER.isoformat()


def test_the_cache_is_two_files_written_whole(server: FeedServer, tmp_path: Path) -> None:
    load(tmp_path, feed("partner", server.url("good-rss")))
    cache = tmp_path / ".cache" / "feeds"
    assert sorted(p.name for p in cache.iterdir()) == ["partner.feed", "partner.json"]
    assert (cache / "partner.feed").read_bytes() == feedserver.GOOD_RSS
    meta = json.loads((cache / "partner.json").read_text())
    assert meta["url"] == server.url("good-rss") and meta["etag"].startswith('"')


# Faults: each one after a good fetch, each bounded in time.

FAULTS = [
    ("status-500", "the server answered 500 Internal Server Error"),
    ("status-404", "the server answered 404 Not Found"),
    ("hang", f"timed out after {DEADLINE:g} s"),
    ("endless", "the feed is larger than 2 MB"),
    ("drip", f"the server sent the feed too slowly and was cut off after {DEADLINE:g} s"),
    ("slow-headers", f"timed out after {DEADLINE:g} s"),
    ("malformed", "the feed is not well-formed XML: mismatched tag on line 4"),
    ("html", "the address gave a web page, not a feed"),
    ("empty", "the answer is not an RSS or Atom feed"),
    ("huge", "the feed is larger than 2 MB"),
    ("huge-declared", "the feed is larger than 2 MB"),
    ("gzip-bomb", "the feed unpacks to more than 2 MB"),
    ("loop-a", "it redirects in a loop"),
    ("chain-6", "it redirects more than 5 times"),
    ("to-ftp", "it redirects to 'ftp://127.0.0.1/feed.xml', which is not a web address"),
    ("to-javascript", "it redirects to something that is not a web address"),
    ("brotli", "the server packed the feed as 'br', which we did not ask for"),
]


@pytest.mark.parametrize(("behaviour", "reason"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_failing_feed_falls_back_to_its_last_good_copy(server: FeedServer, tmp_path: Path,
                                                         behaviour: str, reason: str) -> None:
    url = server.set(f"fault-{behaviour}", "good-rss")
    good = load(tmp_path, feed("equity-news", url)).feeds["equity-news"]
    server.set(f"fault-{behaviour}", behaviour)
    started = time.monotonic()
    result = load(tmp_path, feed("equity-news", url), when=LATER)
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + SLACK, f"{behaviour} took {elapsed:.2f} s"
    got = result.feeds["equity-news"]
    assert (got.stale, got.fetched_at, got.items) == (True, FIRST, good.items)
    [problem] = result.problems
    assert problem.severity is Severity.WARNING
    shown = problem.format(tmp_path)
    assert shown.startswith("content/site.yaml: warning: feed 'equity-news' could not be "
                            f"fetched ({reason}"), shown
    assert shown.endswith("); using the copy from 2026-11-28"), shown


def test_every_feed_failing_at_once_takes_one_deadline_not_the_sum(server: FeedServer,
                                                                    tmp_path: Path) -> None:
    sources = [feed(f"f{i}", server.set(f"all-{behaviour}", "good-rss"))
               for i, (behaviour, _) in enumerate(FAULTS)]
    assert set(load(tmp_path, *sources).feeds) == {s.id for s in sources}
    for behaviour, _ in FAULTS:
        server.set(f"all-{behaviour}", behaviour)
    started = time.monotonic()
    result = load(tmp_path, *sources, when=LATER)
    elapsed = time.monotonic() - started
    # Three faults take a whole deadline each (hang, drip, slow headers): 6 s one by one.
    assert elapsed < DEADLINE + SLACK, f"{len(sources)} failing feeds took {elapsed:.2f} s"
    assert all(f.stale for f in result.feeds.values()) and len(result.feeds) == len(sources)
    assert [p.message.split("'")[1] for p in result.problems] == [s.id for s in sources]
    for problem, (_, reason) in zip(result.problems, FAULTS, strict=True):
        assert reason in problem.message


def test_without_a_saved_copy_the_feed_is_left_out(server: FeedServer, tmp_path: Path) -> None:
    result = load(tmp_path, feed("news", server.url("status-500")),
                  feed("ok", server.url("good-rss")), feed("odd", server.url("not-modified")))
    assert set(result.feeds) == {"ok"}
    assert [p.message for p in result.problems] == [
        "feed 'news' could not be fetched (the server answered 500 Internal Server Error); "
        "it is left out until a fetch succeeds",
        "feed 'odd' could not be fetched (the server answered 304 Not Modified); "  # unasked
        "it is left out until a fetch succeeds",
    ]


def test_an_unknown_host_is_a_plain_warning(tmp_path: Path) -> None:
    started = time.monotonic()
    result = load(tmp_path, feed("nowhere", "http://feeds.invalid/rss"))
    assert time.monotonic() - started < DEADLINE + SLACK
    [problem] = result.problems
    assert ("the server name 'feeds.invalid' could not be found" in problem.message
            or "timed out" in problem.message)  # a resolver that hangs instead of failing


def test_refused_and_insecure_connections_are_named(server: FeedServer, tmp_path: Path) -> None:
    tls = server.url("good-rss").replace("http://", "https://")  # the server speaks plain HTTP
    result = load(tmp_path, feed("closed", "http://127.0.0.1:1/feed"), feed("tls", tls))
    closed, insecure = (p.message for p in result.problems)
    assert closed == ("feed 'closed' could not be fetched ('127.0.0.1' refused the connection); "
                      "it is left out until a fetch succeeds")
    assert insecure.startswith("feed 'tls' could not be fetched (the secure connection to "
                               "'127.0.0.1' failed: [SSL")  # then OpenSSL's own words


def test_strict_turns_a_failed_feed_into_an_error(server: FeedServer, tmp_path: Path) -> None:
    url = server.set("strict", "good-rss")
    load(tmp_path, feed("s", url))
    server.set("strict", "html")
    result = load(tmp_path, feed("s", url), strict=True)
    [problem] = result.problems
    assert problem.is_error and "web page, not a feed" in problem.message
    assert result.feeds["s"].stale  # the copy is still there for the report


def test_offline_uses_saved_copies_and_never_the_network(server: FeedServer,
                                                         tmp_path: Path) -> None:
    url = server.set("offline", "good-rss")
    load(tmp_path, feed("saved", url))
    asked = len(server.requests_to("/switch/offline"))
    (tmp_path / "content" / "feeds").mkdir(parents=True)
    (tmp_path / "content" / "feeds" / "local.xml").write_bytes(feedserver.GOOD_ATOM)
    result = load(tmp_path, feed("saved", url), feed("local", "feeds/local.xml"),
                  feed("never", server.set("offline-never", "good-atom")), offline=True,
                  when=LATER)
    assert len(server.requests_to("/switch/offline")) == asked
    assert not server.requests_to("/switch/offline-never")
    assert (result.feeds["saved"].stale, result.feeds["saved"].fetched_at) == (True, FIRST)
    assert result.feeds["local"].items[0].title == "Newest story"
    [problem] = result.problems
    assert problem.message == ("feed 'never' has no saved copy to use offline; it is left out "
                               "(build once online to save one)")


def test_a_new_url_does_not_reuse_the_old_copy(server: FeedServer, tmp_path: Path) -> None:
    load(tmp_path, feed("moved", server.url("good-rss")))
    result = load(tmp_path, feed("moved", server.url("status-404")))
    assert "moved" not in result.feeds
    assert result.problems[0].message.endswith("it is left out until a fetch succeeds")


def test_a_damaged_saved_copy_is_ignored(server: FeedServer, tmp_path: Path) -> None:
    url = server.set("damaged", "good-rss")
    load(tmp_path, feed("d", url))
    (tmp_path / ".cache/feeds/d.feed").write_bytes(b"<rss>half")
    server.set("damaged", "status-500")
    result = load(tmp_path, feed("d", url))
    assert "d" not in result.feeds and len(result.problems) == 1


# A preview's rebuilds.


def test_a_preview_asks_a_feed_again_only_once_its_answer_is_old(server: FeedServer,
                                                                  tmp_path: Path) -> None:
    url = server.set("memo", "good-rss")
    clock = [1000.0]
    memo = FeedMemo(refresh=600, clock=lambda: clock[0])
    (tmp_path / "content" / "feeds").mkdir(parents=True)
    local = tmp_path / "content" / "feeds" / "local.xml"
    local.write_bytes(feedserver.GOOD_ATOM)
    sources = (feed("m", url), feed("local", "feeds/local.xml"))
    first = load(tmp_path, *sources, memo=memo)
    assert first.problems == () and not first.feeds["m"].stale

    def asked() -> int:
        return len(server.requests_to("/switch/memo"))

    server.set("memo", "status-500")  # asked now, it would fail
    clock[0] += 599
    local.write_bytes(feedserver.GOOD_RSS)  # a feed file is read at every build all the same
    again = load(tmp_path, *sources, when=LATER, memo=memo)
    assert asked() == 1
    assert again.feeds["m"] == first.feeds["m"] and again.problems == ()
    assert again.feeds["local"] != first.feeds["local"]

    clock[0] += 1  # the answer is 600 s old: asked again, it fails, the saved copy is used
    late = load(tmp_path, *sources, when=LATER, memo=memo)
    assert asked() == 2
    assert late.feeds["m"].stale and len(late.problems) == 1
    kept = load(tmp_path, *sources, when=LATER, memo=memo)  # the failure is kept as well
    assert asked() == 2 and kept.problems == late.problems and kept.feeds == late.feeds

    server.set("memo", "good-rss")  # an edited entry in site.yaml is another feed: asked now
    edited = load(tmp_path, feed("m", url, limit=2), sources[1], when=LATER, memo=memo)
    assert asked() == 3 and len(edited.feeds["m"].items) == 2 and edited.problems == ()
    strict = load(tmp_path, feed("m", url, limit=2), sources[1], strict=True, memo=memo)
    assert asked() == 4 and strict.problems == ()  # --strict too: its warnings differ
    offline = load(tmp_path, feed("m", url, limit=2), offline=True, when=LATER, memo=memo)
    assert asked() == 4 and offline.feeds["m"].stale  # offline: the saved copy, as ever


def test_a_preview_rebuild_does_not_wait_for_a_hanging_feed(server: FeedServer,
                                                           tmp_path: Path) -> None:
    url = server.set("memo-hang", "good-rss")
    memo = FeedMemo()
    load(tmp_path, feed("h", url), memo=memo)
    server.set("memo-hang", "hang")
    started = time.monotonic()
    result = load(tmp_path, feed("h", url), when=LATER, memo=memo)
    assert time.monotonic() - started < DEADLINE / 2
    assert result.problems == () and not result.feeds["h"].stale


def test_a_preview_session_asks_once_and_a_build_asks_every_time(server: FeedServer,
                                                                  tmp_path: Path) -> None:
    """What ``serve`` does (one BuildState for the session) against ``make build``."""
    content = tmp_path / "content"
    shutil.copytree(GOLDEN, content)
    url = server.set("session", "good-rss")
    site_yaml = content / "site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("url: feeds/partner.xml", f"url: {url}"))
    post = next((content / "posts").glob("*.md"))
    state = BuildState()
    preview = BuildOptions(content_dir=content, output_dir=tmp_path / "preview", live=True)
    build(preview, state=state)
    post.write_text(post.read_text() + "\nOne more line.\n")
    build(preview, state=state)
    assert len(server.requests_to("/switch/session")) == 1
    assert "Partner news" in (tmp_path / "preview" / "campaigns" / "equity" /
                              "index.html").read_text()
    for _ in range(2):
        build(BuildOptions(content_dir=content, output_dir=tmp_path / "output"))
    assert len(server.requests_to("/switch/session")) == 3


def test_a_build_without_remote_feeds_loads_no_http_client(tmp_path: Path) -> None:
    """httpx and its TLS set-up cost ~40 ms a build: only feeds on the web need them."""
    (tmp_path / "content" / "feeds").mkdir(parents=True)
    (tmp_path / "content" / "feeds" / "local.xml").write_bytes(feedserver.GOOD_ATOM)
    script = ("import sys; from pathlib import Path; from generator.config import FeedSource; "
              "from generator.embeds import load_embeds; "
              f"root = Path({str(tmp_path)!r}); "
              "result = load_embeds([FeedSource('local', 'Local', 'feeds/local.xml')], "
              "content_dir=root / 'content', cache_dir=root / '.cache' / 'feeds'); "
              "print(sorted(result.feeds), 'httpx' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent.parent)
    assert done.stdout.split() == ["['local']", "False"]


# Feed files under content/.


def test_local_feed_files(tmp_path: Path) -> None:
    feeds = tmp_path / "content" / "feeds"
    feeds.mkdir(parents=True)
    (feeds / "good.xml").write_bytes(feedserver.GOOD_RSS)
    (feeds / "broken.xml").write_bytes(feedserver.MALFORMED)
    (tmp_path / "outside.xml").write_bytes(feedserver.GOOD_RSS)
    (feeds / "escape.xml").symlink_to(tmp_path / "outside.xml")
    result = load(tmp_path, feed("good", "feeds/good.xml", link="https://partner.example/"),
                  feed("broken", "feeds/broken.xml"), feed("missing", "feeds/none.xml"),
                  feed("escape", "feeds/escape.xml"))
    good = result.feeds["good"]
    assert (good.stale, good.fetched_at, len(good.items)) == (False, None, 3)
    assert good.items[0].link == "https://partner.example/news/newest"  # against `link`
    assert set(result.feeds) == {"good"}
    assert [p.format(tmp_path) for p in result.problems] == [
        "content/feeds/broken.xml:4: warning: feed 'broken' could not be read (the feed is "
        "not well-formed XML: mismatched tag on line 4); it is left out",
        "content/site.yaml: warning: feed 'missing': there is no file feeds/none.xml in the "
        "content folder; it is left out",
        "content/feeds/escape.xml: warning: feed 'escape' could not be read (it points "
        "outside the content folder); it is left out",
    ]


# Injected fetchers: the same guarantees whatever the fetcher does.


def test_a_fetcher_that_crashes_or_never_returns_cannot_break_the_build(tmp_path: Path) -> None:
    release = threading.Event()

    def fetcher(url: str, validators: Validators, timeout: float) -> Fetched:
        if url.endswith("/crash"):
            raise RuntimeError("bug in a fetcher")
        if url.endswith("/stuck"):
            release.wait(30)  # ignores its timeout, like a lookup no timeout reaches
            raise FetchError("released")
        return Fetched(feedserver.BLUESKY_RSS, url)

    started = time.monotonic()
    try:
        result = load(tmp_path, feed("crash", "https://a.example/crash"),
                      feed("stuck", "https://a.example/stuck"),
                      feed("fine", "https://a.example/fine"), fetcher=fetcher, deadline=0.5)
    finally:
        release.set()
    assert time.monotonic() - started < 0.5 + SLACK
    assert set(result.feeds) == {"fine"}
    assert [p.message.split(" (")[1].split(")")[0] for p in result.problems] == [
        "it failed unexpectedly: RuntimeError: bug in a fetcher", "timed out after 0.5 s"]


def test_the_fetcher_counts_unpacked_bytes_not_just_received_ones(server: FeedServer) -> None:
    small = HttpFetcher(max_bytes=500)  # the feed travels as 449 bytes, unpacks to 787
    with pytest.raises(FetchError, match="unpacks to more than 500 bytes"):
        small(server.url("good-gzip"), Validators(), DEADLINE)
    assert HttpFetcher()(server.url("good-gzip"), Validators(), DEADLINE).body == \
        feedserver.GOOD_RSS


# Safety: the HTML and the URLs that come out.

XSS_PAYLOADS = (
    "<script>window.__xss=1;alert('script')</script>Words after a script.",
    "<img src=x onerror=\"window.__xss=1;alert('img')\">",
    "<a href=\"javascript:window.__xss=1;alert('js')\">js link</a>",
    "<a href=\"&#106;avascript:window.__xss=1;alert('entity')\">entity link</a>",
    "<a href=\"&#x6A;&#x61;vascript&#x3A;window.__xss=1;alert('hex')\">hex link</a>",
    "<a href=\"java\tscript:window.__xss=1;alert('tab')\">tab link</a>",
    "<a href=\"java&#9;script:window.__xss=1;alert('tab entity')\">tab entity link</a>",
    "<a href=\"java&#10;script:window.__xss=1;alert('newline')\">newline link</a>",
    "<a href=\"  JaVaScRiPt:window.__xss=1;alert('case')\">case link</a>",
    "<a href=\"vbscript:msgbox(1)\">vbscript link</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+\">data link</a>",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<svg onload=\"window.__xss=1;alert('svg')\"><circle r=\"5\"/></svg>",
    "<svg><script>window.__xss=1;alert('svg script')</script></svg>",
    "<iframe src=\"javascript:window.__xss=1;alert('iframe')\"></iframe>",
    "<iframe srcdoc=\"&lt;script&gt;parent.__xss=1;parent.alert('srcdoc')&lt;/script&gt;\">"
    "</iframe>",
    "<form action=\"javascript:window.__xss=1;alert('form')\"><button>Go</button>"
    "<input type=\"submit\" value=\"Send\"></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.__xss=1;alert('meta')\">",
    "<p style=\"width: expression(alert('expression')); background: url(javascript:alert(1))\">"
    "styled</p>",
    "<style>body { background: url(\"javascript:alert('style')\") }</style>",
    "<a href=\"https://partner.example/ok\" onclick=\"window.__xss=1;alert('onclick')\" "
    "onmouseover=\"window.__xss=1\">link with handlers</a>",
    "<object data=\"javascript:window.__xss=1\"></object><embed src=\"javascript:alert(1)\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__xss=1;alert('mxss')\">",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__xss=1;alert('noscript')>\">"
    "</noscript>",
    "<details open ontoggle=\"window.__xss=1;alert('toggle')\"><summary>more</summary></details>",
    "<input autofocus onfocus=\"window.__xss=1;alert('focus')\">",
    "<base href=\"javascript:alert('base')//\"><a href=\"/relative\">relative link</a>",
    "<code>&lt;script&gt;window.__xss=1&lt;/script&gt;</code> is shown, not run.",
)
XSS_FEED = rss(
    # One item link is enough to click: the payloads' own links are what matter.
    [Entry(f"<script>alert({i})</script>Item {i}", "" if i else "https://partner.example/item",
           payload, day(1 + i % 27)) for i, payload in enumerate(XSS_PAYLOADS)]
    + [Entry("Bad link", "javascript:window.__xss=1;alert('item link')", "<p>x</p>", day(28),
             '<media:thumbnail url="javascript:alert(1)"/>'),
       Entry("Data link", "data:text/html,<script>alert(1)</script>", "<p>y</p>", day(28),
             '<media:thumbnail url="data:image/png;base64,AAAA"/>')],
    namespaces=' xmlns:media="http://search.yahoo.com/mrss/"')


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def xss_items(tmp_path: Path) -> tuple[EmbedItem, ...]:
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "content" / "xss.xml").write_bytes(XSS_FEED)
    result = load(tmp_path, feed("xss", "xss.xml", limit=50, link="https://partner.example/"))
    assert result.problems == ()
    return result.feeds["xss"].items


def test_feed_html_keeps_only_safe_tags_and_links(tmp_path: Path) -> None:
    items = xss_items(tmp_path)
    assert len(items) == len(XSS_PAYLOADS) + 2
    allowed = {"p", "br", "a", "em", "strong", "ul", "ol", "li", "blockquote", "code"}
    hrefs: list[str | None] = []
    for item in items:
        parser = _Tags()
        parser.feed(item.html)
        for tag, attrs in parser.tags:
            assert tag in allowed, item.html
            if tag == "a":
                assert set(attrs) <= {"href", "rel"} and attrs["rel"] == LINK_REL, item.html
                hrefs += [attrs["href"]] if "href" in attrs else []
            else:
                assert attrs == {}, item.html
        assert item.link in ("", "https://partner.example/item")
        assert item.image == ""
        if "is shown, not run" not in item.text:
            assert "alert" not in item.html + item.text, item
    assert set(hrefs) == {"https://partner.example/ok", "https://partner.example/relative"}
    # Titles are plain text, kept as written: the theme escapes them like any text.
    assert "<script>alert(0)</script>Item 0" in [i.title for i in items]
    assert "<script>window.__xss=1</script> is shown, not run." in [i.text for i in items]


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://a.example/x y", "https://a.example/x%20y"),
    ("  https://a.example/  ", "https://a.example/"),
    ("/path", "https://base.example/path"),
    ("//other.example/p", "https://other.example/p"),
    ("java\tscript:alert(1)", ""),
    ("\njavascript:alert(1)", ""),
    ("JAVASCRIPT:alert(1)", ""),
    ("data:text/html,hi", ""),
    ("ftp://a.example/", ""),
    ("mailto:a@b.example", ""),
    ("https:/no-host", "https://base.example/no-host"),
    ("", ""),
    (" \t", ""),
])
def test_safe_url(raw: str, expected: str) -> None:
    assert safe_url(raw, "https://base.example/feed") == expected


def test_safe_url_can_demand_https() -> None:
    assert safe_url("http://a.example/i.jpg", schemes=("https",)) == ""
    assert safe_url("https://") == ""
    assert safe_url("https://a.example/i.jpg", schemes=("https",)) == "https://a.example/i.jpg"


def test_excerpts_cut_on_a_word_with_an_ellipsis() -> None:
    words = " ".join(["equity"] * 60)  # 419 characters
    cut = excerpt(words + ".")
    assert cut.endswith("equity…") and len(cut) <= 281
    assert excerpt("  short \n text  ") == "short text"


# Click-to-load X embeds.


def test_x_embeds_are_plain_links_until_asked() -> None:
    html = x_embed_html("https://twitter.com/CCPSEquity/status/1234567890?s=20")
    parser = _Tags()
    parser.feed(html)
    assert parser.tags == [
        ("figure", {"class": "x-embed", "data-x-embed": "post", "data-x-handle": "CCPSEquity",
                    "data-x-post": "1234567890"}),
        ("p", {"class": "x-embed-link"}),
        ("a", {"href": "https://x.com/CCPSEquity/status/1234567890", "rel": "noopener"}),
    ]
    assert "See this post by @CCPSEquity on X</a>" in html
    profile = x_embed_html("https://x.com/CCPS_SEL", label="Our <SEL> posts")
    assert 'data-x-embed="profile"' in profile and "Our &lt;SEL&gt; posts</a>" in profile
    assert "<script" not in html + profile and "platform.twitter.com" not in html + profile


@pytest.mark.parametrize("url", [
    "http://x.com/CCPSEquity/status/1", "https://x.com.evil.example/CCPSEquity",
    "https://evilx.com/CCPSEquity", "javascript:alert(1)", "https://x.com/",
    "https://x.com/home", "https://x.com/i/lists/1", "https://x.com/a/status/12ab",
    "https://x.com/CCPSEquity/likes", "https://user@x.com/CCPSEquity",
    "https://x.com:8443/CCPSEquity", "https://x.com/name_is_too_long_here",
    "https://bsky.app/profile/a.bsky.social",
])
def test_x_embeds_refuse_anything_but_an_x_post_or_profile(url: str) -> None:
    with pytest.raises(ValueError, match=r"https://x\.com/… \(or https://twitter\.com/…\)"):
        x_embed_html(url)


# In a real browser.

PAGE = "http://site.test/page.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from tests.support.browser import chromium

    with chromium() as running:
        yield running


def items_page(items: tuple[EmbedItem, ...]) -> str:
    """A tiny theme: text escaped, the sanitized HTML as is, as the real theme does."""
    rows = []
    for item in items:
        link = f'<a href="{escape(item.link)}">{escape(item.title or "post")}</a>' \
            if item.link else f"<h2>{escape(item.title)}</h2>"
        image = f'<img src="{escape(item.image)}" alt="{escape(item.image_alt)}">' \
            if item.image else ""
        rows.append(f"<li>{link}<p>{escape(item.text)}</p><div>{item.html}</div>{image}</li>")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Embeds</title>'
            f"</head><body><ul>{''.join(rows)}</ul></body></html>")


def probe(browser: Browser, html: str) -> tuple[list[str], object, list[str]]:
    """Open ``html``, click every link and control; (dialogs, window.__xss, offsite requests).

    Offsite requests get 204 No Content, so a click on a link leaves the page where it is.
    """
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    offsite: list[str] = []

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    def route(r: Route) -> None:
        if r.request.url == PAGE:
            r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            offsite.append(r.request.url)
            r.fulfill(status=204)

    page.on("dialog", dialog)
    page.route("**/*", route)
    try:
        page.goto(PAGE)
        controls = page.locator("a, button, input, summary, details")
        for i in range(controls.count()):
            controls.nth(i).click(timeout=2000, force=True)  # no actionability waits: ~2x faster
        page.wait_for_timeout(200)
        assert page.url == PAGE
        return dialogs, page.evaluate("window.__xss"), offsite
    finally:
        context.close()


@pytest.mark.browser
def test_the_browser_runs_no_script_from_a_feed(browser: Browser, tmp_path: Path) -> None:
    dialogs, xss, offsite = probe(browser, items_page(xss_items(tmp_path)))
    assert (dialogs, xss) == ([], None)
    assert all(u.startswith("https://partner.example/") for u in offsite), offsite


@pytest.mark.browser
def test_the_browser_probe_would_catch_a_payload_that_got_through(browser: Browser) -> None:
    raw = items_page(()).replace("<ul>", "<ul>" + XSS_PAYLOADS[1] + XSS_PAYLOADS[2])
    dialogs, xss, _ = probe(browser, raw)
    assert xss == 1 and sorted(dialogs) == ["img", "js"]


@pytest.mark.browser
def test_x_embed_asks_nothing_of_x_before_the_click(browser: Browser) -> None:
    script = (Path(__file__).parents[1] / "themes/default/static/x-embed.js").read_text()
    html = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>X</title>'
            '<script src="/x-embed.js" defer></script></head><body>'
            f"{x_embed_html('https://x.com/CCPSEquity/status/1234567890')}</body></html>")
    widget = ("window.twttr = {widgets: {createTweet: function (id, el) {"
              "var d = document.createElement('div'); d.className = 'fake-tweet';"
              "d.textContent = id; el.appendChild(d); return Promise.resolve(d); }}};")
    requested: list[str] = []

    def route(r: Route) -> None:
        requested.append(r.request.url)
        if r.request.url == PAGE:
            r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif r.request.url == "http://site.test/x-embed.js":
            r.fulfill(status=200, content_type="text/javascript", body=script)
        elif r.request.url == "https://platform.twitter.com/widgets.js":
            r.fulfill(status=200, content_type="text/javascript", body=widget)
        else:
            r.fulfill(status=404)

    context = browser.new_context()
    page = context.new_page()
    try:
        page.route("**/*", route)
        page.goto(PAGE)
        button = page.get_by_role("button", name="Load this post from X (X may track you)")
        button.wait_for()
        page.wait_for_timeout(300)
        assert requested == [PAGE, "http://site.test/x-embed.js"]
        assert page.locator('a[href="https://x.com/CCPSEquity/status/1234567890"]').count() == 1
        button.click()
        page.locator(".fake-tweet").wait_for(timeout=5000)
        assert requested[2:] == ["https://platform.twitter.com/widgets.js"]
        assert page.locator(".fake-tweet").text_content() == "1234567890"
        assert page.locator("figure.x-embed a, figure.x-embed button").count() == 0
    finally:
        context.close()
