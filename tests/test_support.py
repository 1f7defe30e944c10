"""The test helpers themselves: each must pass a good page and catch a planted fault."""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import missing_tool
from tests.support.browser import (
    DESKTOP,
    MOBILE,
    VIEWPORTS,
    Viewport,
    chromium,
    format_violations,
    new_page,
    record_requests,
    require_browser,
    run_axe,
    skip_link_problems,
    tab_through,
)
from tests.support.crawl import crawl, srcset_urls
from tests.support.httpserver import serve_directory
from tests.support.validators import (
    ToolError,
    atom_schema,
    jing_errors,
    newsboat_items,
    newsboat_reads,
    vnu_errors,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FIXTURES = Path(__file__).parent / "support" / "fixtures"
GOOD = FIXTURES / "good"
PUBLISHED = "https://example.github.io/equity-sel/"


def get(url: str) -> tuple[int, str, bytes]:
    """Status, Content-Type and body of a GET, without following redirects' targets' errors."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"] or "", exc.read()


def raw_status(base: str, path: str) -> tuple[int, str | None]:
    """Status and Location for ``path`` sent verbatim (urllib would normalise ``..``)."""
    host = base.split("/")[2]
    connection = http.client.HTTPConnection(host, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


# --- the static server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve_directory(GOOD, "/equity-sel/") as base:
        yield base


def test_server_serves_directory_index_under_the_subpath(site: str) -> None:
    assert site.startswith("http://127.0.0.1:") and site.endswith("/equity-sel/")
    status, ctype, body = get(site + "about/")
    assert (status, ctype) == (200, "text/html; charset=utf-8")
    assert b"<h1>About the campaign</h1>" in body


@pytest.mark.parametrize("path", ["/", "/about/", "/style.css", "/equity-selx/", "/feed.xml"])
def test_server_refuses_paths_outside_the_subpath(site: str, path: str) -> None:
    status, _ = raw_status(site, path)
    assert status == 404


def test_server_refuses_to_climb_out_of_the_root(site: str) -> None:
    assert raw_status(site, "/equity-sel/../support/fixtures/bad.html")[0] == 404
    assert raw_status(site, "/equity-sel/%2e%2e/bad.html")[0] == 404


def test_server_sends_404_page_with_status_404_for_missing_files(site: str) -> None:
    status, ctype, body = get(site + "no-such-post/")
    assert (status, ctype) == (404, "text/html; charset=utf-8")
    assert body == (GOOD / "404.html").read_bytes()


def test_server_redirects_directories_to_their_slash_form(site: str) -> None:
    assert raw_status(site, "/equity-sel/about") == (301, "/equity-sel/about/")
    assert raw_status(site, "/equity-sel") == (301, "/equity-sel/")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.html", "text/html; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.xml", "application/xml"),
        ("a.svg", "image/svg+xml"),
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.webp", "image/webp"),
        ("favicon.ico", "image/x-icon"),
        ("a.json", "application/json"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("a.unknown", "application/octet-stream"),
    ],
)
def test_server_content_types(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / name).write_bytes(b"x")
    with serve_directory(tmp_path) as base:
        status, ctype, body = get(base + name)
    assert (status, ctype, body) == (200, expected, b"x")


def test_server_stops_when_the_block_ends(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("hi", encoding="utf-8")
    with serve_directory(tmp_path, "sub") as base:
        assert get(base)[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base, timeout=2)


# --- the crawler -------------------------------------------------------------------------


def test_crawl_of_a_sound_site_finds_nothing_broken(site: str) -> None:
    report = crawl(site, aliases={PUBLISHED: site})
    assert report.broken == (), report.format_broken()
    paths = {url.removeprefix(site) for url in report.pages}
    # Feeds, the sitemap, the stylesheet, the srcset image and the share image are all reached.
    assert paths == {"", "about/", "feed.xml", "atom.xml", "sitemap.xml", "style.css", "logo.svg"}
    assert report.external_urls == {
        "mailto:team@example.org",
        "https://twitter.com/intent/tweet?text=Fund%20SEL",
    }


def test_crawl_without_aliases_records_published_urls_as_external(site: str) -> None:
    report = crawl(site)
    assert f"{PUBLISHED}logo.svg" in report.external_urls
    assert f"{PUBLISHED}about/" in report.external_urls  # from the feeds and the sitemap


def test_crawl_reports_planted_broken_links_and_anchors() -> None:
    with serve_directory(FIXTURES / "broken", "/equity-sel/") as base:
        report = crawl(base)
    found = {(b.source.removeprefix(base), b.line, b.href): b.reason for b in report.broken}
    assert set(found) == {
        ("", 6, "/style.css"),  # forgot the site's subpath
        ("", 12, "missing.html"),
        ("", 13, "other.html#nowhere"),
        ("", 15, "#absent"),
    }, report.format_broken()
    assert found[("", 12, "missing.html")] == "404 Not Found"
    assert "no element with id 'nowhere'" in found[("", 13, "other.html#nowhere")]
    assert {url.removeprefix(base) for url in report.pages} == {"", "other.html"}


def test_crawl_reports_a_feed_that_is_not_well_formed(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<a href="feed.xml">feed</a>', encoding="utf-8")
    (tmp_path / "feed.xml").write_text("<rss><channel>", encoding="utf-8")
    with serve_directory(tmp_path) as base:
        report = crawl(base)
    assert [(b.href, b.reason.split(":")[0]) for b in report.broken] == [
        ("feed.xml", "not well-formed XML")
    ]


def test_crawl_follows_other_origins_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "index.html").write_text('<a href="gone.html">x</a>', encoding="utf-8")
    with serve_directory(tmp_path / "b") as other:
        (tmp_path / "a" / "index.html").write_text(f'<a href="{other}">b</a>', encoding="utf-8")
        with serve_directory(tmp_path / "a") as base:
            assert crawl(base).broken == ()
            everywhere = crawl(base, same_origin_only=False)
    assert [b.url for b in everywhere.broken] == [other + "gone.html"]


def test_srcset_urls_drops_descriptors() -> None:
    assert srcset_urls("a.png 1x, b/c.png 2x") == ["a.png", "b/c.png"]
    assert srcset_urls(" small.webp 480w,\n large.webp 1080w ") == ["small.webp", "large.webp"]
    assert srcset_urls("only.png") == ["only.png"]


# --- validators --------------------------------------------------------------------------


def test_vnu_accepts_valid_pages_and_svg() -> None:
    files = [GOOD / "index.html", GOOD / "about" / "index.html", GOOD / "404.html"]
    assert vnu_errors([*files, GOOD / "logo.svg"]) == []


def test_vnu_reports_planted_errors_with_file_and_line() -> None:
    bad, css = FIXTURES / "bad.html", FIXTURES / "invalid.css"
    # CSS in the same batch: vnu's CSS mode must not shift the HTML file's line numbers.
    errors = vnu_errors([GOOD / "404.html", bad, GOOD / "style.css", css])
    assert len(errors) == 3, errors
    assert errors[0].startswith(f"{bad}:10: Duplicate ID “dup”")
    assert errors[1].startswith(f"{bad}:11: An “img” element must have an “alt” attribute")
    assert errors[2].startswith(f"{css}:3: CSS: “colr”: Property “colr” doesn't exist")


def test_vnu_of_nothing_runs_nothing() -> None:
    assert vnu_errors([]) == []


def test_jing_accepts_a_valid_atom_feed() -> None:
    assert jing_errors(atom_schema(), [GOOD / "atom.xml"]) == []


def test_jing_rejects_an_invalid_atom_feed() -> None:
    errors = jing_errors(atom_schema(), [GOOD / "atom.xml", FIXTURES / "invalid-atom.xml"])
    assert errors, "jing accepted a feed without id and updated"
    assert all("invalid-atom.xml:" in e for e in errors), errors
    assert any('missing required elements "id" and "updated"' in e for e in errors), errors
    assert any("must be an ISO date and time" in e for e in errors), errors


@pytest.mark.parametrize("feed", ["feed.xml", "atom.xml"])
def test_newsboat_reads_titles_in_feed_order(feed: str) -> None:
    assert newsboat_reads(GOOD / feed) == [
        "Board votes on SEL budget – what’s next",
        "Campaign launch",
    ]


def test_newsboat_reads_a_served_feed_with_links(site: str) -> None:
    items = newsboat_items(site + "atom.xml")
    assert [item.url for item in items] == [f"{PUBLISHED}about/", f"{PUBLISHED}#events"]


def test_newsboat_failures_raise_with_its_message(site: str, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="404"):
        newsboat_reads(site + "missing.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><title>cut off", encoding="utf-8")
    with pytest.raises(ToolError, match="could not read"):
        newsboat_reads(broken)


# --- skipping locally, failing in CI -----------------------------------------------------


def test_missing_tool_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROSITE_REQUIRE_TOOLS", raising=False)
    monkeypatch.delenv("MICROSITE_REQUIRE_BROWSER", raising=False)
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_browser()


@pytest.mark.parametrize("variable", ["MICROSITE_REQUIRE_TOOLS", "MICROSITE_REQUIRE_BROWSER"])
def test_missing_tool_fails_when_tools_are_required(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv("MICROSITE_REQUIRE_TOOLS", raising=False)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match="jing not found"):
        missing_tool("jing", "apt-get install jing")


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def fixtures_site() -> Iterator[str]:
    with serve_directory(FIXTURES) as base:
        yield base


@pytest.mark.browser
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_axe_passes_an_accessible_page(browser: Browser, site: str, viewport: Viewport) -> None:
    with new_page(browser, viewport) as page:
        page.goto(site)  # the page sets a strict Content-Security-Policy; axe must still run
        assert page.viewport_size == {"width": viewport.width, "height": viewport.height}
        violations = run_axe(page)
    assert violations == [], format_violations(violations)


@pytest.mark.browser
def test_axe_reports_planted_violations(browser: Browser, fixtures_site: str) -> None:
    with new_page(browser, MOBILE) as page:
        page.goto(fixtures_site + "bad.html")
        violations = run_axe(page)
    by_rule = {v.rule: v for v in violations}
    assert set(by_rule) == {"image-alt", "color-contrast"}, format_violations(violations)
    assert by_rule["image-alt"].targets == ("img",)
    assert by_rule["image-alt"].impact == "critical"
    message = format_violations(violations)
    assert "color-contrast" in message and "dequeuniversity.com" in message


@pytest.mark.browser
def test_record_requests_blocks_and_reports_offsite_requests(
    browser: Browser, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="https://fonts.example/css">'
        '<img alt="" src="local.svg"><img alt="" src="https://tracker.example/p.gif">',
        encoding="utf-8",
    )
    shutil.copy(GOOD / "logo.svg", tmp_path / "local.svg")
    with serve_directory(tmp_path) as base, new_page(browser) as page:
        log = record_requests(page, base)
        page.goto(base)
    assert base in log.urls and base + "local.svg" in log.urls
    assert sorted(log.offsite) == ["https://fonts.example/css", "https://tracker.example/p.gif"]


@pytest.mark.browser
def test_record_requests_on_a_sound_page_stays_home(browser: Browser, site: str) -> None:
    with new_page(browser) as page:
        log = record_requests(page, site)
        page.goto(site)
    assert log.offsite == []
    assert site + "style.css" in log.urls


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=lambda v: v.name)
def test_tab_through_lists_focus_order_with_visible_focus(
    browser: Browser, site: str, viewport: Viewport
) -> None:
    with new_page(browser, viewport) as page:
        page.goto(site)
        stops = tab_through(page, max_steps=30)
    assert [s.text for s in stops] == [
        "Skip to content",
        "Home",
        "About the campaign",
        "RSS feed",
        "Read why",
        "email the team",
        "Share on X",
        "Link to this section",
        "Sitemap",
    ]
    assert stops[2].href == "about/"
    assert all(s.indicator_visible and s.focus_visible for s in stops)
    assert stops[1].outline_style == "solid" and stops[1].outline_width == "3px"


@pytest.mark.browser
def test_tab_through_notices_a_hidden_focus_indicator(browser: Browser) -> None:
    with new_page(browser) as page:
        page.set_content(
            '<style>a:focus { outline: none }</style><a href="/a">A</a><button>B</button>'
        )
        stops = tab_through(page)
    assert [(s.tag, s.text, s.indicator_visible) for s in stops] == [
        ("a", "A", False),
        ("button", "B", True),
    ]


@pytest.mark.browser
def test_skip_link_works_on_the_sound_page(browser: Browser, site: str) -> None:
    with new_page(browser, MOBILE) as page:
        page.goto(site)
        assert skip_link_problems(page) == []
        page.keyboard.press("Tab")  # continues inside <main>, after the skip
        assert page.evaluate("document.activeElement.textContent") == "Read why"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('<a href="/">Home</a><main id="main"></main>', "not a skip link"),
        ('<a href="#content">Skip</a><main id="main"></main>', "#content does not exist"),
        ('<a href="#main">Skip</a><main id="main"><a href="/">x</a></main>', "left focus"),
        (
            '<a href="#main" style="position:absolute;left:-999px">Skip</a>'
            '<main id="main" tabindex="-1"></main>',
            "not visible when focused",
        ),
    ],
)
def test_skip_link_problems_are_named(browser: Browser, body: str, problem: str) -> None:
    with new_page(browser) as page:
        page.set_content(f"<!DOCTYPE html><title>t</title>{body}")
        problems = skip_link_problems(page)
    assert len(problems) == 1 and problem in problems[0], problems
