"""The default theme on built pages, without a browser: colours, motion, print, images, weight.

Reads what the build wrote (HTML, the stylesheet, the images) for the sample site, the golden
fixture and a small site with body images. What only a browser can tell (computed styles,
axe-core) is in ``test_pages_in_browser.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from PIL import Image

from generator.build import BuildOptions, build
from generator.colors import contrast
from generator.config import load_config
from generator.render import DEFAULT_THEME
from tests.conftest import MINIMAL_SITE, write_tree
from tests.support import repo_root

STYLESHEET = DEFAULT_THEME / "static" / "style.css"
AA_TEXT = 4.5
AA_NON_TEXT = 3.0  # WCAG 1.4.11: focus outlines and other marks a reader must see
BUDGET_BYTES = 50 * 1024  # one page's HTML and its stylesheets, before images
SAMPLE_NOW = datetime(2027, 6, 1, tzinfo=UTC)  # every sample post is published by then
GOLDEN_NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # as in test_build.py
DARK = "(prefers-color-scheme: dark)"
MOTION_OK = "(prefers-reduced-motion: no-preference)"
REDUCED = "(prefers-reduced-motion: reduce)"


# -- reading the stylesheet --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One CSS rule: the ``@media`` condition it sits in ("" at the top level)."""

    media: str
    selector: str
    declarations: tuple[tuple[str, str], ...]


def css_rules(css: str) -> list[Rule]:
    """Every rule of ``css``, with ``@media`` blocks opened (enough for this theme's CSS)."""
    rules: list[Rule] = []

    def walk(text: str, media: str) -> None:
        pos = 0
        while (start := text.find("{", pos)) >= 0:
            depth, end = 1, start + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
            prelude, body = text[pos:start].strip(), text[start + 1 : end - 1]
            if prelude.startswith("@media"):
                walk(body, prelude.removeprefix("@media").strip())
            else:
                pairs = (d.partition(":") for d in body.split(";") if d.strip())
                declarations = tuple((k.strip(), v.strip()) for k, _, v in pairs)
                rules.append(Rule(media, " ".join(prelude.split()), declarations))
            pos = end

    walk(re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL), "")
    return rules


def root_variables(rules: list[Rule], media: str) -> dict[str, str]:
    """The ``:root`` custom properties set at ``media`` ("" for the defaults)."""
    found = {k: v for r in rules if r.media == media and r.selector == ":root"
             for k, v in r.declarations if k.startswith("--")}
    assert found, f"style.css sets no :root colours for {media or 'the default scheme'}"
    return found


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return css_rules(STYLESHEET.read_text(encoding="utf-8"))


# -- reading built pages -----------------------------------------------------------------------


class PageParts(HTMLParser):
    """The images (and whether each opens a ``figure.hero``), stylesheets and inline CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[dict[str, str], bool]] = []
        self.stylesheets: list[str] = []
        self.inline_css: list[str] = []
        self._figures: list[bool] = []  # is each open <figure> a hero?
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "figure":
            self._figures.append("hero" in values.get("class", "").split())
        elif tag == "img":
            self.images.append((values, bool(self._figures) and self._figures[-1]))
        elif tag == "link" and "stylesheet" in values.get("rel", "").split():
            self.stylesheets.append(values["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self._figures:
            self._figures.pop()
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_css.append(data)


def parts_of(page: Path) -> PageParts:
    parser = PageParts()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


@dataclass(frozen=True, slots=True)
class Built:
    root: Path
    base_path: str  # the path of the site's base_url, for root-relative links (404.html)

    def pages(self) -> list[Path]:
        return sorted(self.root.rglob("*.html"))

    def file_for(self, page: Path, link: str) -> Path:
        """The built file a link on ``page`` points at."""
        here = "/" + page.relative_to(self.root).as_posix()
        path = unquote(urlsplit(urljoin(self.base_path.rstrip("/") + here, link)).path)
        assert path.startswith(self.base_path), f"{page}: {link} leaves the site"
        return self.root / path.removeprefix(self.base_path)


BODY_IMAGES_SITE: Mapping[str, str] = {
    **MINIMAL_SITE,
    "posts/2024-05-03-pictures.md": (
        "---\ntitle: Pictures\ndate: 2024-05-03\ncampaign: equity\nsummary: With pictures.\n"
        "image: images/hero.png\nimage_alt: A wide blue banner\n---\n"
        "Before the chart.\n\n![A bar chart of attendance](images/chart.png)\n\n"
        "After the chart.\n\n![](images/divider.png)\n"),
    "pages/about.md": (
        "---\ntitle: About\nsummary: About us.\nimage: images/hero.png\n"
        "image_alt: A wide blue banner\n---\nWho we are.\n"),
}
IMAGE_FILES = {"hero.png": (640, 360), "chart.png": (300, 200), "divider.png": (400, 20)}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """The sample site, the golden fixture and a small site with body images, built."""
    small = tmp_path_factory.mktemp("small") / "content"
    write_tree(small, BODY_IMAGES_SITE)
    (small / "images").mkdir()
    for name, size in IMAGE_FILES.items():
        Image.new("RGB", size, "#1f5fbf").save(small / "images" / name)
    sources = {
        "sample": (repo_root() / "content", SAMPLE_NOW, "/equity-sel/"),
        "golden": (repo_root() / "tests/fixtures/golden/content", GOLDEN_NOW, "/golden/"),
        "small": (small, SAMPLE_NOW, "/test-site/"),
    }
    built = {}
    for name, (content, now, base_path) in sources.items():
        root = tmp_path_factory.mktemp(name) / "output"
        build(BuildOptions(content_dir=content, output_dir=root, offline=True, cache=False),
              now=now)
        built[name] = Built(root, base_path)
    return built


SITE_NAMES = ("sample", "golden", "small")


def every_image(site: Built) -> Iterator[tuple[Path, dict[str, str], bool]]:
    for page in site.pages():
        for attrs, hero in parts_of(page).images:
            yield page, attrs, hero


# -- images ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SITE_NAMES)
def test_every_image_states_its_real_size(sites: dict[str, Built], name: str) -> None:
    """width and height reserve the image's space before it loads (no layout shift)."""
    site, wrong, seen = sites[name], [], 0
    for page, attrs, _hero in every_image(site):
        seen += 1
        with Image.open(site.file_for(page, attrs["src"])) as image:
            real = image.size
        stated = (attrs.get("width", ""), attrs.get("height", ""))
        if stated != (str(real[0]), str(real[1])):
            wrong.append(f"{page}: {attrs['src']} says {stated}, is {real}")
    assert seen > 0
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", SITE_NAMES)
def test_hero_images_load_at_once_and_the_rest_lazily(sites: dict[str, Built], name: str) -> None:
    heroes, others, wrong = 0, 0, []
    for page, attrs, hero in every_image(sites[name]):
        loading = attrs.get("loading", "eager")
        if hero:
            heroes += 1
            if loading != "eager" or attrs.get("fetchpriority") != "high":
                wrong.append(f"{page}: hero {attrs['src']} should load eagerly, first")
        else:
            others += 1
            if loading != "lazy":
                wrong.append(f"{page}: {attrs['src']} is below the fold but loads eagerly")
    assert heroes > 0 and others > 0
    assert not wrong, "\n".join(wrong)


def test_body_images_get_their_size_from_the_markup(sites: dict[str, Built]) -> None:
    page = sites["small"].root / "posts" / "pictures" / "index.html"
    images = {attrs["src"].rsplit("/", 1)[-1]: (attrs, hero) for attrs, hero in
              parts_of(page).images}
    assert set(images) == set(IMAGE_FILES)
    for name, (width, height) in IMAGE_FILES.items():
        attrs, hero = images[name]
        assert (attrs["width"], attrs["height"]) == (str(width), str(height)), name
        assert hero == (name == "hero.png"), name
    assert images["divider.png"][0]["alt"] == ""  # decorative: said so, not left out
    about = parts_of(sites["small"].root / "about" / "index.html").images
    assert [(a["width"], a["height"], hero) for a, hero in about] == [("640", "360", True)]


# -- language of parts -------------------------------------------------------------------------

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})


class TextLanguages(HTMLParser):
    """Each run of text in ``<body>`` with the language it is marked as (its nearest ``lang``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[tuple[str, str]] = []
        self._open: list[tuple[str, str]] = []  # (tag, lang) of each open element
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_body = self._in_body or tag == "body"
        if tag not in VOID:
            inherited = self._open[-1][1] if self._open else ""
            self._open.append((tag, dict(attrs).get("lang") or inherited))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass  # an element closed implicitly (</p> left out) ends with its parent

    def handle_data(self, data: str) -> None:
        if self._in_body and data.strip() and self._open:
            self.runs.append((" ".join(data.split()), self._open[-1][1]))


def test_text_in_the_sites_own_language_is_marked_on_other_pages(sites: dict[str, Built]) -> None:
    """Words site.yaml gives in one language (WCAG 3.1.2): the site's and campaigns' names and
    descriptions where ``translations:`` lacks them, and embedded feeds' titles."""
    cfg = load_config(repo_root() / "content")
    own = {cfg.title, cfg.description, *(f.title for f in cfg.feeds)}
    own |= {text for c in cfg.campaigns for text in (c.name, c.description)}
    checked, wrong = 0, []
    for page in sites["sample"].pages():
        parser = TextLanguages()
        parser.feed(page.read_text(encoding="utf-8"))
        for text, lang in parser.runs:
            if text in own:
                checked += 1
                if lang != cfg.language:
                    wrong.append(f"{page}: {text[:40]!r} is marked {lang!r}")
    assert checked > 100
    assert not wrong, "\n".join(wrong)


# -- weight ------------------------------------------------------------------------------------


def page_weights(site: Built) -> dict[str, int]:
    """Bytes of each page's HTML plus the stylesheets it links, by page."""
    weights = {}
    for page in site.pages():
        css = {site.file_for(page, href) for href in parts_of(page).stylesheets}
        size = page.stat().st_size + sum(path.stat().st_size for path in css)
        weights[page.relative_to(site.root).as_posix()] = size
    return weights


def test_every_page_fits_the_weight_budget(sites: dict[str, Built]) -> None:
    weights = page_weights(sites["sample"])
    heaviest = sorted(weights.items(), key=lambda item: -item[1])[:5]
    shown = ", ".join(f"{page} {size / 1024:.1f} KB" for page, size in heaviest)
    assert len(weights) > 50
    assert heaviest[0][1] <= BUDGET_BYTES, f"over {BUDGET_BYTES // 1024} KB; heaviest: {shown}"


def test_every_page_links_the_theme_stylesheet(sites: dict[str, Built]) -> None:
    for page in sites["sample"].pages():
        sheets = parts_of(page).stylesheets
        assert [s.rsplit("/", 1)[-1] for s in sheets] == ["style.css"], page


# -- colours -----------------------------------------------------------------------------------


def schemes(rules: list[Rule]) -> dict[str, dict[str, str]]:
    """The light and dark palettes: the defaults, then the dark overrides on top."""
    light = root_variables(rules, "")
    return {"light": light, "dark": {**light, **root_variables(rules, DARK)}}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_theme_text_colours_reach_aa(rules: list[Rule], scheme: str) -> None:
    palette, low = schemes(rules)[scheme], []
    for text in ("--fg", "--muted"):
        for surface in ("--bg", "--card"):
            ratio = contrast(palette[text], palette[surface])
            if ratio < AA_TEXT:
                low.append(f"{text} on {surface}: {ratio:.2f}")
    for surface in ("--bg", "--card"):
        ratio = contrast(palette["--focus"], palette[surface])
        if ratio < AA_NON_TEXT:
            low.append(f"focus outline on {surface}: {ratio:.2f}")
    assert not low, "\n".join(low)


ACCENTS = re.compile(r"--accent:(#[0-9a-f]{6});--accent-dark:(#[0-9a-f]{6})")


@pytest.mark.parametrize("name", ["sample", "golden"])
def test_campaign_accents_reach_aa_in_both_schemes(
    sites: dict[str, Built], rules: list[Rule], name: str
) -> None:
    """Links, the skip link and share pills are in the accent, on the page and on cards."""
    palettes, seen, low = schemes(rules), set(), []
    for page in sites[name].pages():
        found = ACCENTS.search("".join(parts_of(page).inline_css))
        assert found, f"{page} sets no accent colours"
        seen.add(found.groups())
        for scheme, accent in zip(("light", "dark"), found.groups(), strict=True):
            for surface in ("--bg", "--card"):
                ratio = contrast(accent, palettes[scheme][surface])
                if ratio < AA_TEXT:
                    low.append(f"{page}: {scheme} accent {accent} on {surface}: {ratio:.2f}")
    assert len(seen) >= 2, "expected a colour per campaign"
    assert not low, "\n".join(low)


def test_badges_reach_aa(rules: list[Rule]) -> None:
    badge = dict(next(r for r in rules if r.selector == ".badge").declarations)
    assert contrast(badge["color"], badge["background"]) >= AA_TEXT


# -- motion and print --------------------------------------------------------------------------


def _moves(prop: str, value: str) -> bool:
    if prop.startswith(("transition", "animation")):
        return value.removesuffix("!important").strip() not in ("none", "0s")
    return prop == "scroll-behavior" and value == "smooth"


def test_motion_only_for_readers_who_allow_it(rules: list[Rule]) -> None:
    moving = [(r.media, r.selector, k) for r in rules for k, v in r.declarations if _moves(k, v)]
    assert moving, "expected some motion (smooth scrolling, transitions) to check"
    assert [m for m in moving if m[0] != MOTION_OK] == []
    stilled = {k for r in rules if r.media == REDUCED and r.selector.startswith("*")
               for k, v in r.declarations if not _moves(k, v)}
    assert {"animation", "transition", "scroll-behavior"} <= stilled


def test_print_hides_the_controls_and_prints_black_on_white(rules: list[Rule]) -> None:
    printed = [r for r in rules if r.media == "print"]
    hidden = {selector.strip() for r in printed if ("display", "none !important") in
              r.declarations for selector in r.selector.split(",")}
    assert {".skip-link", ".site-nav", ".lang-nav", ".share", ".tweetable-share", ".pagination",
            ".prev-next", ".embeds", ".site-footer"} <= hidden
    body = dict(next(r for r in printed if r.selector == "body").declarations)
    assert (body["color"], body["background"]) == ("#000", "#fff")
    palette = dict(next(r for r in printed if r.selector == ":root").declarations)
    assert palette["--link"] == palette["--fg"] == "#000000"


def test_templates_call_functions_as_jinja_itself_would() -> None:
    """The build's context calls partials, cached functions and methods straight away; what
    a template gets must be what Jinja's own context gives, marks and loops included."""
    import functools

    import jinja2

    from generator.render import _Context

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def greet(self, other: str) -> str:
            return f"{self.name} greets {other}"

        @jinja2.pass_context
        def page(self, ctx: jinja2.runtime.Context) -> str:
            return f"{self.name} on {ctx['here']}"

    def join(*parts: object, sep: str = "+") -> str:
        return sep.join(map(str, parts))

    @functools.lru_cache
    def shout(text: str) -> str:
        return text.upper()

    def stop() -> str:
        raise StopIteration

    source = ("{% for i in [1, 2] %}{{ joined(i, sep='-') }} {{ here_of() }} "
              "{{ shout(i|string) }} {{ who.greet('you') }} {{ who.page() }}|{% endfor %}"
              "{% block b %}{{ joined('block') }} {{ here_of() }}{% endblock %}"
              "{{ stop() is undefined }} {{ joined(ctx_free()) }}")
    names = {"joined": functools.partial(join, "a"), "shout": shout, "who": Named("Ann"),
             "here_of": jinja2.pass_context(functools.partial(lambda ctx: ctx["here"])),
             "stop": functools.partial(stop), "ctx_free": lambda: "plain", "here": "/x/"}
    expected = jinja2.Environment().from_string(source).render(names)
    fast = jinja2.Environment()
    fast.context_class = _Context
    assert fast.from_string(source).render(names) == expected
    assert expected == ("a-1 /x/ 1 Ann greets you Ann on /x/|a-2 /x/ 2 Ann greets you Ann on /x/|"
                        "a+block /x/True a+plain")
