"""Debian's Chromium driven by Playwright: axe-core audits, request logs, keyboard walks.

Playwright's own browser download cannot work here, so it launches ``/usr/bin/chromium``
(or ``$CHROMIUM``). axe-core comes from ``node_modules/``; nothing is loaded from the network.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import missing_tool, repo_root

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Schemes that never reach the network, so they cannot leak a visitor to a third party.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


@dataclass(frozen=True, slots=True)
class Viewport:
    name: str
    width: int
    height: int


MOBILE = Viewport("mobile", 375, 812)
DESKTOP = Viewport("desktop", 1280, 800)
VIEWPORTS = (MOBILE, DESKTOP)


def require_browser() -> Path:
    """The Chromium executable; skips the test (fails under MICROSITE_REQUIRE_TOOLS=1) if absent."""
    hint = "apt-get install chromium, and pip install playwright into .venv"
    if importlib.util.find_spec("playwright") is None:
        missing_tool("the playwright Python package", hint)
    configured = os.environ.get("CHROMIUM")
    found = configured or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).is_file():
        missing_tool(f"Chromium ({found})", hint)
    return Path(found)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the ``with`` block (share one per test module: it takes ~1 s)."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(browser: Browser, viewport: Viewport = DESKTOP) -> Iterator[Page]:
    """A page in a fresh browser context (no shared cookies, cache or focus) at ``viewport``."""
    context = browser.new_context(viewport={"width": viewport.width, "height": viewport.height})
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass(frozen=True, slots=True)
class AxeViolation:
    """One failed axe-core rule and the elements (CSS selectors) that fail it."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def format(self) -> str:
        where = ", ".join(self.targets[:5]) + (" …" if len(self.targets) > 5 else "")
        return f"[{self.impact}] {self.rule}: {self.help} — {where} ({self.help_url})"


def axe_script() -> Path:
    """``axe.min.js`` installed by ``npm ci``, or skip/fail the test."""
    script = repo_root() / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        missing_tool("axe-core", "run `npm ci --ignore-scripts` in the repository root")
    return script


_RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return result.violations.map((v) => ({
        rule: v.id,
        impact: v.impact || "unknown",
        help: v.help,
        help_url: v.helpUrl,
        targets: v.nodes.map((n) => n.target.map(String).join(" ")),
    }));
}"""


def run_axe(page: Page) -> list[AxeViolation]:
    """Run axe-core's WCAG 2.1 A/AA rules on the loaded page and return its violations."""
    loaded = "typeof globalThis.axe?.run === 'function'"
    if not page.evaluate(loaded):
        # Not add_script_tag: it inserts an inline <script>, which the site's own
        # Content-Security-Policy rightly blocks. DevTools evaluation is exempt from CSP.
        page.evaluate(axe_script().read_text(encoding="utf-8"))
        if not page.evaluate(loaded):
            raise RuntimeError(f"{axe_script()} did not define window.axe")
    found: list[dict[str, Any]] = page.evaluate(_RUN_AXE, list(WCAG_TAGS))
    return [
        AxeViolation(v["rule"], v["impact"], v["help"], v["help_url"], tuple(v["targets"]))
        for v in found
    ]


def format_violations(violations: list[AxeViolation]) -> str:
    """One line per violation, for an assertion message."""
    return "\n".join(v.format() for v in violations)


def origin_of(url: str) -> str:
    """``http://127.0.0.1:8000`` from any URL on that origin."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


@dataclass(frozen=True, slots=True)
class RequestLog:
    """Every URL the page requested since :func:`record_requests`; filled in as it loads."""

    allowed_origin: str
    urls: list[str] = field(default_factory=list)

    @property
    def offsite(self) -> list[str]:
        """Requests that left the site's own origin (third-party fonts, scripts, trackers)."""
        return [
            url
            for url in self.urls
            if not url.startswith(LOCAL_SCHEMES) and origin_of(url) != self.allowed_origin
        ]


def record_requests(page: Page, allowed_origin: str) -> RequestLog:
    """Log every request ``page`` makes from now on, and block those leaving ``allowed_origin``.

    ``allowed_origin`` may be any URL on the site. Offsite requests are aborted so a test
    never waits on the network; they still show in :attr:`RequestLog.offsite`.
    """
    log = RequestLog(origin_of(allowed_origin))

    def remember(request: Request) -> None:
        log.urls.append(request.url)

    def only_ours(route: Route) -> None:
        if origin_of(route.request.url) == log.allowed_origin:
            route.continue_()
        else:
            route.abort("blockedbyclient")

    page.on("request", remember)
    page.route("**/*", only_ours)
    return log


@dataclass(frozen=True, slots=True)
class FocusStop:
    """The element focused after one Tab press, with the styles that make focus visible."""

    tag: str
    text: str
    href: str | None
    element_id: str
    outline_style: str
    outline_width: str
    box_shadow: str
    focus_visible: bool

    @property
    def indicator_visible(self) -> bool:
        """True when an outline or a box-shadow marks the focused element."""
        outline = self.outline_style != "none" and self.outline_width not in ("0px", "")
        return outline or self.box_shadow not in ("none", "")

    def describe(self) -> str:
        label = self.text or self.href or self.element_id
        return f"<{self.tag}> {label!r}"


_FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(),
        text: (el.innerText || el.getAttribute("aria-label") || el.value || "").trim(),
        href: el.getAttribute("href"),
        element_id: el.id,
        outline_style: style.outlineStyle,
        outline_width: style.outlineWidth,
        box_shadow: style.boxShadow,
        focus_visible: el.matches(":focus-visible"),
    };
}"""


def focused(page: Page) -> FocusStop | None:
    """The focused element, or None when focus is on the document itself."""
    info: dict[str, Any] | None = page.evaluate(_FOCUSED)
    return None if info is None else FocusStop(**info)


def tab_through(page: Page, max_steps: int = 200) -> list[FocusStop]:
    """Press Tab until focus leaves the page or wraps around; the elements focused, in order."""
    stops: list[FocusStop] = []
    for _ in range(max_steps):
        page.keyboard.press("Tab")
        stop = focused(page)
        if stop is None or (stops and stop == stops[0]):
            break
        stops.append(stop)
    return stops


_TARGET_STATE = """(id) => {
    const target = document.getElementById(id);
    const link = document.activeElement;
    const box = link ? link.getBoundingClientRect() : null;
    return {
        exists: target !== null,
        link_on_screen: !!box && box.width > 1 && box.height > 1 && box.bottom > 0
            && box.right > 0 && box.top < innerHeight && box.left < innerWidth,
    };
}"""


def skip_link_problems(page: Page) -> list[str]:
    """What is wrong with the skip link on a freshly loaded page (empty when it works).

    The first Tab must focus a visible same-page link whose target exists, and Enter on it
    must move focus to that target (so the next Tab continues inside the main content).
    """
    page.keyboard.press("Tab")
    first = focused(page)
    if first is None or first.tag != "a" or not (first.href or "").startswith("#"):
        shown = first.describe() if first else "nothing"
        return [f"first Tab focused {shown}, not a skip link to '#…'"]
    target_id = (first.href or "#")[1:]
    state: dict[str, bool] = page.evaluate(_TARGET_STATE, target_id)
    problems = []
    if not state["link_on_screen"]:
        problems.append(f"skip link {first.describe()} is not visible when focused")
    if not first.indicator_visible:
        problems.append(f"skip link {first.describe()} has no outline or box-shadow on focus")
    if not state["exists"]:
        return [*problems, f"skip link target #{target_id} does not exist"]
    page.keyboard.press("Enter")
    after = focused(page)
    if after is None or after.element_id != target_id:
        shown = after.describe() if after else "the document"
        problems.append(
            f"Enter on the skip link left focus on {shown}, not #{target_id}"
            ' (give the target tabindex="-1")'
        )
    return problems
