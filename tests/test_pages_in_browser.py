"""Every kind of page in a real browser: WCAG 2.1 AA, valid HTML, nothing fetched from elsewhere.

The sample site and the golden fixture are built once for this module and served under their
``base_url``'s subpath, as GitHub Pages serves them. One Chromium serves every test, and tests
that only navigate share one page per viewport (see :class:`Tabs`). axe-core checks the WCAG
2.0/2.1 A and AA rules on every kind of page at phone and desktop widths, and in dark mode;
the Nu HTML Checker reads every page of each site in one batch; every request a page makes is
logged, and one to another origin fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from generator.build import BuildOptions, build
from tests.support import repo_root
from tests.support.browser import (
    DESKTOP,
    VIEWPORTS,
    Viewport,
    chromium,
    format_violations,
    new_page,
    record_requests,
    run_axe,
    skip_link_problems,
    tab_through,
)
from tests.support.httpserver import serve_directory
from tests.support.validators import vnu_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

X_WIDGETS = "https://platform.twitter.com/widgets.js"
IMAGE_WAIT_MS = 5000


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of page: where a site has one, and what its HTML must contain to still be it."""

    name: str
    path: str  # relative to the site's base URL, as a reader would type it
    marker: str
    file: str = ""  # the built file, when it is not ``path`` + index.html
    status: int = 200

    def built_file(self, root: Path) -> Path:
        return root / (self.file or self.path.split("?", 1)[0] + "index.html")


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    content: Path
    subpath: str  # the path of its base_url, where GitHub Pages serves it
    now: datetime  # the build's clock, so the same posts are published on every run
    kinds: tuple[Kind, ...]

    def kind(self, name: str) -> Kind:
        return next(k for k in self.kinds if k.name == name)


NOT_FOUND = Kind("404", "no-such-page/", "<h1>Page not found</h1>", "404.html", 404)
SAMPLE = Site("sample", repo_root() / "content", "/equity-sel/", datetime(2027, 6, 1, tzinfo=UTC), (
    Kind("home", "", 'class="campaign-list"'),
    Kind("home-page-2", "page/2/", 'class="pagination"'),
    Kind("campaign", "campaigns/equity/", 'class="follow"'),
    Kind("campaign-page-2", "campaigns/equity/page/2/", 'class="pagination"'),
    Kind("post-image", "posts/calm-down-corner/", 'class="hero"'),
    Kind("post-quote", "posts/riverside-student-voice-panel/", 'class="tweetable"'),
    Kind("post-x-embed", "posts/one-post-a-day/", "data-x-embed"),
    Kind("tag", "tags/equity/", "Posts tagged"),
    Kind("tags", "tags/", 'class="tag-cloud"'),
    Kind("archive", "archive/", 'class="archive-list"'),
    Kind("archive-year", "archive/2026/", "<h1>Posts from 2026</h1>"),
    Kind("page", "about/", '<article class="page">'),
    NOT_FOUND,
    Kind("share-preview", "share-preview/", 'class="tweet-text"'),
    Kind("mastodon", "share/mastodon/?text=Hello%20%23CCPSEquity", "data-mastodon-share"),
    Kind("translated-post", "es/posts/calm-down-corner/", '<html lang="es"'),
    Kind("amharic-home", "am/", '<html lang="am"'),
    Kind("amharic-post", "am/posts/sel-strategies-at-home/", '<html lang="am"'),
    Kind("chinese-home", "zh/", '<html lang="zh"'),
    Kind("chinese-post", "zh/posts/sel-strategies-at-home/", '<html lang="zh"'),
))
GOLDEN = Site("golden", repo_root() / "tests/fixtures/golden/content", "/golden/",
              datetime(2026, 3, 20, 12, 0, tzinfo=UTC), (
    Kind("home", "", 'class="campaign-list"'),
    Kind("home-page-2", "page/2/", 'class="pagination"'),
    Kind("campaign", "campaigns/equity/", 'class="follow"'),
    Kind("campaign-yellow", "campaigns/sel/", "<h1>Golden SEL</h1>"),  # colour #ffcc00
    Kind("post-image-quote", "posts/welcome/", 'class="tweetable"'),
    Kind("post-headings", "posts/second/", "<h2"),
    Kind("tag", "tags/sel/", "Posts tagged"),
    Kind("tags", "tags/", 'class="tag-cloud"'),
    Kind("archive", "archive/", 'class="archive-list"'),
    Kind("archive-year", "archive/2026/", "<h1>Posts from 2026</h1>"),
    Kind("page", "about/", '<article class="page">'),
    NOT_FOUND,
    Kind("share-preview", "share-preview/", 'class="tweet-text"'),
    Kind("mastodon", "share/mastodon/", "data-mastodon-share"),
    Kind("translated-post", "es/posts/welcome/", '<html lang="es"'),
    Kind("translated-home", "es/", '<html lang="es"'),
))
SITES = (SAMPLE, GOLDEN)
EVERY_KIND = [pytest.param(s, k, id=f"{s.name}-{k.name}") for s in SITES for k in s.kinds]
# Dark mode changes colours only, so one width is enough; these kinds hold every surface
# (cards, quote boxes, share pills, forms, the X embed) and both sites' accent colours.
DARK_KINDS = [
    pytest.param(s, s.kind(name), id=f"{s.name}-{name}")
    for s, names in ((SAMPLE, ("home", "campaign", "post-quote", "post-x-embed", "tag",
                               "share-preview", "mastodon", "amharic-post")),
                     (GOLDEN, ("home", "campaign-yellow", "post-image-quote")))
    for name in names
]


@dataclass(frozen=True, slots=True)
class Served:
    root: Path  # the built site
    base: str  # the URL it is served at

    def url(self, kind: Kind) -> str:
        return self.base + kind.path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    """Both sites, built into a temporary folder and served as GitHub Pages would."""
    roots = {}
    for site in SITES:
        root = tmp_path_factory.mktemp(site.name) / "output"
        build(BuildOptions(content_dir=site.content, output_dir=root, offline=True, cache=False),
              now=site.now)
        roots[site.name] = root
    with (serve_directory(roots[SAMPLE.name], SAMPLE.subpath) as sample,
          serve_directory(roots[GOLDEN.name], GOLDEN.subpath) as golden):
        yield {SAMPLE.name: Served(roots[SAMPLE.name], sample),
               GOLDEN.name: Served(roots[GOLDEN.name], golden)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@contextmanager
def dark_page(browser: Browser, viewport: Viewport = DESKTOP) -> Iterator[Page]:
    """A page in a fresh context whose reader has asked their system for dark colours."""
    context = browser.new_context(viewport={"width": viewport.width, "height": viewport.height},
                                  color_scheme="dark")
    try:
        yield context.new_page()
    finally:
        context.close()


class Tabs:
    """One open page per viewport and colour scheme, reused by the tests that only navigate.

    A fresh context costs more than a page load and an axe run together (a new renderer,
    and axe-core compiled again), so tests that change nothing but the URL share a page.
    Every navigation starts a new document: focus, scripts and axe itself start over.
    """

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._pages: dict[tuple[str, str], Page] = {}

    def page(self, viewport: Viewport, scheme: Literal["light", "dark"] = "light") -> Page:
        key = (viewport.name, scheme)
        if key not in self._pages:
            context = self._browser.new_context(
                viewport={"width": viewport.width, "height": viewport.height},
                color_scheme=scheme)
            self._pages[key] = context.new_page()
        page = self._pages[key]
        page.unroute("**/*")  # the previous test's request log stops blocking and logging
        return page

    def close(self) -> None:
        for page in self._pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[Tabs]:
    shared = Tabs(browser)
    yield shared
    shared.close()


# Lazy images load only near the viewport; loading them all makes the request log complete.
_LOAD_EVERY_IMAGE = """async (timeout) => {
    const images = [...document.images];
    images.forEach((img) => { img.loading = "eager"; });
    const settled = images.map((img) => img.complete ? null : new Promise((done) => {
        img.addEventListener("load", done, {once: true});
        img.addEventListener("error", done, {once: true});
    }));
    await Promise.race([Promise.all(settled), new Promise((done) => setTimeout(done, timeout))]);
    return images.filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src);
}"""
_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def visit(page: Page, url: str, status: int) -> list[str]:
    """Open ``url`` and load every image on it; problems with the response or the images."""
    response = page.goto(url)
    problems = []
    if response is None or response.status != status:
        problems.append(f"{url} answered {response.status if response else 'nothing'}, "
                        f"not {status}")
    broken: list[str] = page.evaluate(_LOAD_EVERY_IMAGE, IMAGE_WAIT_MS)
    problems += [f"image did not load: {src}" for src in broken]
    return problems


# -- the pages are what they claim -----------------------------------------------------------


@pytest.mark.parametrize(("site", "kind"), EVERY_KIND)
def test_each_kind_of_page_is_built(served: dict[str, Served], site: Site, kind: Kind) -> None:
    """The pages below stand for their kind: if content changes, pick another page."""
    html = kind.built_file(served[site.name].root).read_text(encoding="utf-8")
    assert kind.marker in html, f"{kind.built_file(served[site.name].root)} is no {kind.name}"


# -- axe-core, requests, reflow ---------------------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize(("site", "kind"), EVERY_KIND)
def test_page_passes_axe_and_stays_on_site(
    tabs: Tabs, served: dict[str, Served], site: Site, kind: Kind, viewport: Viewport
) -> None:
    """No WCAG A/AA violation, no request to another origin, no sideways scrolling."""
    url = served[site.name].url(kind)
    page = tabs.page(viewport)
    requests = record_requests(page, url)
    problems = visit(page, url, kind.status)
    violations = run_axe(page)
    overflow: int = page.evaluate(_OVERFLOW)
    assert requests.urls, "the request log saw nothing"
    problems += [f"request left the site: {offsite}" for offsite in requests.offsite]
    if overflow > 0:  # WCAG 1.4.10: text reflows at phone width
        problems.append(f"the page scrolls sideways by {overflow}px at {viewport.width}px")
    assert not violations, format_violations(violations)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("site", "kind"), DARK_KINDS)
def test_dark_mode_passes_axe(
    tabs: Tabs, served: dict[str, Served], site: Site, kind: Kind
) -> None:
    page = tabs.page(DESKTOP, "dark")
    problems = visit(page, served[site.name].url(kind), kind.status)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    violations = run_axe(page)
    assert problems == []
    assert background == "rgb(21, 23, 26)", "the dark colour scheme did not apply"
    assert not violations, format_violations(violations)


def test_x_embed_loads_nothing_until_the_reader_asks(
    browser: Browser, served: dict[str, Served]
) -> None:
    url = served[SAMPLE.name].url(SAMPLE.kind("post-x-embed"))
    with new_page(browser) as page:
        requests = record_requests(page, url)
        assert visit(page, url, 200) == []
        button = page.locator("figure.x-embed button.x-embed-load")
        button.wait_for()
        assert requests.offsite == [], "the page asked X for something before any click"
        with page.expect_request(X_WIDGETS):
            button.click()
        # The test blocks X, so the embed must say so and keep its plain link.
        page.locator(".x-embed-status").filter(has_text="could not").wait_for()
        link_kept = page.locator(".x-embed-link a").count()
    assert requests.offsite == [X_WIDGETS]
    assert link_kept == 1


# -- valid HTML --------------------------------------------------------------------------------


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.name)
def test_every_page_is_valid_html(served: dict[str, Served], site: Site) -> None:
    pages = sorted(served[site.name].root.rglob("*.html"))
    assert len(pages) > 20
    errors = vnu_errors(pages)
    assert errors == [], "\n".join(errors)


# -- keyboard ----------------------------------------------------------------------------------


# Every page has base.html's skip link and <main>; these kinds differ in what comes first
# in <main> and in what follows it: cards and feeds, pagination, share pills and quotes, the
# X embed's button, tags and previous/next, a form, and the 404 page's root-relative links.
FOCUS_KINDS = ("home", "home-page-2", "post-quote", "post-x-embed", "mastodon", "404")


_FOCUS_IN_MAIN = "document.querySelector('main').contains(document.activeElement)"


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("name", FOCUS_KINDS)
def test_skip_link_moves_focus_to_main(
    tabs: Tabs, served: dict[str, Served], name: str, viewport: Viewport
) -> None:
    page = tabs.page(viewport)
    page.goto(served[SAMPLE.name].url(SAMPLE.kind(name)))
    assert skip_link_problems(page) == []
    page.keyboard.press("Tab")
    inside_main = page.evaluate(_FOCUS_IN_MAIN)
    assert inside_main, "after the skip link, Tab should continue inside <main>"


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("name", FOCUS_KINDS)
def test_focus_is_always_visible(
    tabs: Tabs, served: dict[str, Served], name: str, viewport: Viewport
) -> None:
    page = tabs.page(viewport)
    page.goto(served[SAMPLE.name].url(SAMPLE.kind(name)))
    stops = tab_through(page)
    assert len(stops) > 10
    hidden = [s.describe() for s in stops if not (s.indicator_visible and s.focus_visible)]
    assert hidden == [], "focus is invisible on these stops"


_SHARE_CONTROLS = """() => [...document.querySelectorAll(
    "a.share-link, a.tweetable-share, .share button:not([hidden])")].map((el) => ({
        href: el.getAttribute("href"), text: el.innerText.trim()}))"""


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("name", ["post-quote", "post-image", "home"])
def test_every_share_control_is_reachable_with_tab(
    tabs: Tabs, served: dict[str, Served], name: str, viewport: Viewport
) -> None:
    page = tabs.page(viewport)
    page.goto(served[SAMPLE.name].url(SAMPLE.kind(name)))  # after load: share.js has run
    controls: list[dict[str, Any]] = page.evaluate(_SHARE_CONTROLS)
    stops = tab_through(page)
    links = [c["href"] for c in controls if c["href"]]
    buttons = [c["text"] for c in controls if not c["href"]]
    assert len(links) >= 6, "expected a share link per network"
    assert "Copy link" in buttons, "share.js shows this button wherever the Clipboard API is"
    assert set(links) <= {s.href for s in stops}, "share links Tab never reaches"
    assert set(buttons) <= {s.text for s in stops if s.tag == "button"}


# -- reduced motion and print ------------------------------------------------------------------


_MOTION = """() => ({
    scroll: getComputedStyle(document.documentElement).scrollBehavior,
    transition: getComputedStyle(document.querySelector("a.share-link")).transitionDuration,
})"""


@pytest.mark.parametrize(("preference", "scroll", "transition"),
                         [("no-preference", "smooth", "0.15s, 0.15s"),
                          ("reduce", "auto", "0s")])
def test_motion_follows_the_readers_preference(
    browser: Browser,
    served: dict[str, Served],
    preference: Literal["no-preference", "reduce"],
    scroll: str,
    transition: str,
) -> None:
    with new_page(browser) as page:
        page.emulate_media(reduced_motion=preference)
        page.goto(served[SAMPLE.name].url(SAMPLE.kind("post-quote")))
        motion: dict[str, str] = page.evaluate(_MOTION)
    assert motion == {"scroll": scroll, "transition": transition}


_PRINTED = """() => {
    const shown = (selector) => [...document.querySelectorAll(selector)]
        .some((el) => getComputedStyle(el).display !== "none");
    return {
        controls: [".skip-link", ".site-nav", ".lang-nav", ".share", ".prev-next",
                   ".site-footer", ".tweetable-share"].filter(shown),
        article: shown("article h1") && shown(".body"),
        colours: [getComputedStyle(document.body).color,
                  getComputedStyle(document.body).backgroundColor],
    };
}"""


def test_print_shows_the_article_in_black_on_white(
    browser: Browser, served: dict[str, Served]
) -> None:
    with dark_page(browser) as page:
        page.goto(served[SAMPLE.name].url(SAMPLE.kind("post-quote")))
        page.emulate_media(media="print")
        printed: dict[str, Any] = page.evaluate(_PRINTED)
    assert printed == {"controls": [], "article": True,
                       "colours": ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]}
