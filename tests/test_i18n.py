"""Interface strings in the languages families read, and every language's pages built right.

The first half checks the theme's catalogues (``themes/default/i18n/<lang>.yaml``) against the
strings the templates really pass to ``t(…)``; the second builds the sample site and a small
Arabic site and reads what a reader, a search engine and a feed reader get.
"""

from __future__ import annotations

import ast
import email.utils
import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import jinja2
import pytest
import yaml
from jinja2 import nodes

from generator.build import BuildOptions, build
from generator.config import NETWORKS, SiteConfig, load_config
from generator.render import DEFAULT_THEME, Catalogue
from generator.social import compose_tweet, share_links, share_url
from tests.conftest import write_tree

TEMPLATES = DEFAULT_THEME / "templates"
GENERATOR = Path(__file__).resolve().parent.parent / "generator"
I18N = DEFAULT_THEME / "i18n"
CONTENT = Path(__file__).resolve().parent.parent / "content"
NOW = datetime(2027, 6, 1, tzinfo=UTC)  # every sample post is published by then
COMPLETE = ("en", "es")  # en.yaml is the translators' template; es.yaml must be complete
# A ``t(…)`` whose message is computed names where its messages come from.
COMPUTED = {("partials/share.html", "link.label"): "share link names (generator/social.py)"}
XHTML = "{http://www.w3.org/1999/xhtml}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
POST_PATH = re.compile(r"^(?:[a-z]{2,3}(?:-[a-z0-9]+)*/)?posts/")


# -- the strings the theme uses --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Use:
    """One ``t(…)`` call in a template."""

    template: str
    line: int
    msgid: str | None  # None when the message is computed
    source: str  # the computed expression, e.g. "link.label"
    values: frozenset[str]  # the keyword arguments given


def _expression(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expression(node.node)}.{node.attr}"
    return type(node).__name__


def template_uses() -> list[Use]:
    """Every ``t(…)`` call in the default theme's templates, found by parsing them."""
    env = jinja2.Environment()
    uses = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        tree = env.parse(path.read_text(encoding="utf-8"), name=name)
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "t"):
                continue
            first = call.args[0] if call.args else None
            literal = isinstance(first, nodes.Const) and isinstance(first.value, str)
            uses.append(Use(name, call.lineno,
                            first.value if literal and isinstance(first, nodes.Const) else None,
                            "" if literal or first is None else _expression(first),
                            frozenset(kw.key for kw in call.kwargs)))
    return uses


def share_labels() -> set[str]:
    """The accessible names of the share links, as generator/social.py makes them."""
    page = "https://example.org/posts/a/"
    tweet = compose_tweet(title="A", url=share_url(page, "x", campaign_id="c", utm=False))
    links = share_links(tweet, networks=NETWORKS, title="A", summary="", page_url=page,
                        campaign_id="c", utm=False,
                        mastodon_page="https://example.org/share/mastodon/")
    return {link.label for link in links}


def python_msgids() -> dict[str, set[str]]:
    """Messages the generator translates itself: ``….t(lang, "…")`` or ``….gettext(lang, "…")``
    with a literal message (page titles made in :mod:`generator.jobs`)."""
    found: dict[str, set[str]] = {}
    for path in sorted(GENERATOR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("t", "gettext") and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)):
                found.setdefault(node.args[1].value, set()).add(f"generator/{path.name}")
    return found


def msgids() -> dict[str, set[str]]:
    """Each message the theme can show, and where it comes from."""
    found: dict[str, set[str]] = {}
    for use in template_uses():
        if use.msgid is not None:
            found.setdefault(use.msgid, set()).add(use.template)
    for label in share_labels():
        found.setdefault(label, set()).add("generator/social.py")
    for msgid, places in python_msgids().items():
        found.setdefault(msgid, set()).update(places)
    return found


@pytest.fixture(scope="module")
def used() -> dict[str, set[str]]:
    """:func:`msgids`, found once for the module."""
    return msgids()


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def catalogue(lang: str) -> dict[str, str]:
    data = yaml.safe_load((I18N / f"{lang}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{lang}.yaml must be a mapping of English to {lang}"
    return data


CATALOGUES = sorted(p.stem for p in I18N.glob("*.yaml"))


def test_the_catalogues_this_theme_ships() -> None:
    assert set(CATALOGUES) >= {"en", "es", "am", "zh", "vi", "fr", "ko", "ar"}


def test_templates_give_literal_messages_with_their_placeholders() -> None:
    """Extraction works only on literal messages, and each call fills what its message names."""
    uses = template_uses()
    assert len(uses) > 40, "the extractor found too few t(…) calls; is it still parsing?"
    for use in uses:
        where = f"{use.template}:{use.line}"
        if use.msgid is None:
            assert (use.template, use.source) in COMPUTED, (
                f"{where}: t({use.source}) computes its message; the catalogue test cannot see "
                "it. Pass a literal, or add the expression to COMPUTED with where its "
                "messages come from")
        else:
            assert placeholders(use.msgid) == use.values, (
                f"{where}: t({use.msgid!r}) is given {sorted(use.values)}")


def test_page_titles_made_in_python_are_found() -> None:
    assert {"Tags", "Archive", "Page not found"} <= set(python_msgids())


def test_computed_share_labels_are_the_six_networks() -> None:
    assert share_labels() == {"Share on X", "Share on Bluesky", "Share on Facebook",
                              "Share on LinkedIn", "Share on Mastodon", "Share by email"}


@pytest.mark.parametrize("lang", CATALOGUES)
def test_catalogue_is_flat_text(lang: str) -> None:
    for key, value in catalogue(lang).items():
        assert isinstance(key, str), f"{lang}.yaml: key {key!r} is not text"
        assert isinstance(value, str), f"{lang}.yaml: {key!r} has no text (got {value!r})"
        assert value.strip() == value and value, f"{lang}.yaml: {key!r} is blank or padded"


@pytest.mark.parametrize("lang", COMPLETE)
def test_catalogue_has_every_message(lang: str, used: dict[str, set[str]]) -> None:
    missing = sorted(set(used) - set(catalogue(lang)))
    assert not missing, f"{lang}.yaml lacks {missing}"


def test_english_catalogue_is_the_template_for_translators() -> None:
    assert all(key == value for key, value in catalogue("en").items())


@pytest.mark.parametrize("lang", CATALOGUES)
def test_catalogue_has_no_stale_messages(lang: str, used: dict[str, set[str]]) -> None:
    stale = sorted(set(catalogue(lang)) - set(used))
    assert not stale, f"{lang}.yaml translates messages no template uses: {stale}"


@pytest.mark.parametrize("lang", CATALOGUES)
def test_translations_keep_their_placeholders(lang: str) -> None:
    for msgid, text in catalogue(lang).items():
        assert placeholders(text) == placeholders(msgid), f"{lang}.yaml: {msgid!r} → {text!r}"
        text.format(**dict.fromkeys(placeholders(msgid), "x"))  # no stray braces


def test_catalogue_falls_back_to_english_per_message() -> None:
    strings = Catalogue.load((DEFAULT_THEME,))
    assert strings.gettext("es", "Page {number} of {total}", number=2, total=3) == "Página 2 de 3"
    assert strings.gettext("es-MX", "Skip to main content") == "Saltar al contenido principal"
    assert strings.gettext("so", "Skip to main content") == "Skip to main content"


# -- reading built pages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """What one built HTML page says, as a browser, a screen reader and a crawler read it."""

    url: str
    lang: str
    dir: str
    canonical: str
    alternates: Mapping[str, str]  # hreflang -> absolute URL
    switcher: tuple[Mapping[str, str], ...]  # the language switcher's <a> attributes
    links: tuple[Mapping[str, str], ...]  # every <a>'s attributes, href made absolute
    texts: tuple[str, ...]  # visible text and accessible labels
    published: str  # the post's date as shown


class _Reader(HTMLParser):
    """Collects a :class:`Page` while parsing; ``page()`` freezes it."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.html: dict[str, str] = {}
        self.canonical = ""
        self.alternates: dict[str, str] = {}
        self.switcher: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.texts: list[str] = []
        self.published = ""
        self.hidden = 0  # inside <script>, <style>, <title>
        self.in_switcher = False
        self.in_published = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html = a
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a["href"]
        elif tag == "link" and a.get("rel") == "alternate" and "hreflang" in a:
            self.alternates[a["hreflang"]] = a["href"]
        elif tag == "nav" and "lang-nav" in a.get("class", "").split():
            self.in_switcher = True
        elif tag == "a" and "href" in a:
            a["href"] = urljoin(self.url, a["href"])
            self.links.append(a)
            if self.in_switcher:
                self.switcher.append(a)
        elif tag == "time" and "dt-published" in a.get("class", ""):
            self.in_published = True
        if tag in ("script", "style", "title"):
            self.hidden += 1
        for name in ("aria-label", "data-done", "placeholder", "alt"):
            if a.get(name):
                self.texts.append(a[name])

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.in_switcher = False
        elif tag == "time":
            self.in_published = False
        elif tag in ("script", "style", "title"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if self.in_published:
            self.published += data
        if not self.hidden and data.strip():
            self.texts.append(data)

    def page(self) -> Page:
        return Page(self.url, self.html.get("lang", ""), self.html.get("dir", ""),
                    self.canonical, dict(self.alternates), tuple(self.switcher),
                    tuple(self.links), tuple(self.texts), self.published)


@dataclass(frozen=True, slots=True)
class Built:
    cfg: SiteConfig
    root: Path

    def url(self, site_path: str) -> str:
        return self.cfg.base_url + site_path

    def site_path(self, url: str) -> str:
        assert url.startswith(self.cfg.base_url), url
        return unquote(url[len(self.cfg.base_url):])

    def page(self, site_path: str) -> Page:
        file = self.root / (site_path + "index.html" if site_path.endswith("/") or not site_path
                            else site_path)
        reader = _Reader(self.url(site_path))
        reader.feed(file.read_text(encoding="utf-8"))
        reader.close()
        return reader.page()

    def pages(self) -> Iterator[Page]:
        for file in sorted(self.root.rglob("*.html")):
            rel = file.relative_to(self.root).as_posix()
            yield self.page(rel.removesuffix("index.html"))

    def language_of(self, site_path: str) -> str:
        first = site_path.split("/", 1)[0]
        return first if first in self.cfg.languages else self.cfg.language


def build_site(content: Path, output: Path) -> Built:
    build(BuildOptions(content_dir=content, output_dir=output, offline=True, cache=False),
          now=NOW)
    return Built(load_config(content), output)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sample site (English, with Spanish, Amharic and Chinese translations)."""
    return build_site(CONTENT, tmp_path_factory.mktemp("sample") / "output")


def _words(text: str) -> str:
    return text.strip().strip(":←→·").strip()


def test_every_page_says_its_language_and_direction(sample: Built) -> None:
    pages = list(sample.pages())
    assert len(pages) > 60
    languages = set()
    for page in pages:
        lang = sample.language_of(sample.site_path(page.url))
        languages.add(lang)
        assert (page.lang, page.dir) == (lang, "ltr"), page.url
    assert languages == {"en", "es", "am", "zh"}


def test_spanish_post_reads_in_spanish(sample: Built) -> None:
    page = sample.page("es/posts/principal-equity-answer/")
    assert (page.lang, page.dir) == ("es", "ltr")
    texts = {_words(text) for text in page.texts}
    assert {"Saltar al contenido principal", "Principal", "Archivo", "Etiquetas",
            "Compartir", "Compartir en X", "Compartir en Bluesky",
            "Compartir por correo electrónico", "(se abre en una pestaña nueva)",
            "Compartir esta cita en X", "Esta publicación en otros idiomas",
            "Siga este sitio"} <= texts
    assert page.published == "2 de abril de 2026"


def test_chinese_post_has_chinese_date_and_strings(sample: Built) -> None:
    page = sample.page("zh/posts/sel-strategies-at-home/")
    assert page.published == "2026年2月3日"
    assert {"跳到主要内容", "分享到 X", "本文的其他语言版本"} <= {_words(t) for t in page.texts}


@pytest.mark.parametrize("lang", ["es", "am", "zh"])
def test_no_english_interface_string_left_where_a_translation_exists(sample: Built,
                                                                     lang: str) -> None:
    translated = {msgid for msgid, text in catalogue(lang).items() if text != msgid}
    assert translated
    for page in sample.pages():
        if sample.language_of(sample.site_path(page.url)) != lang:
            continue
        english = sorted({_words(t) for t in page.texts} & translated)
        assert not english, f"{page.url} shows {english} in English"


def test_translated_posts_point_at_each_other_both_ways(sample: Built) -> None:
    checked = 0
    for page in sample.pages():
        if "/posts/" not in page.url and "/about/" not in page.url:
            continue
        if not page.alternates:
            continue
        checked += 1
        assert page.alternates[page.lang] == page.canonical == page.url
        default = page.alternates["x-default"]
        assert default == page.alternates[sample.cfg.language]
        for hreflang, url in page.alternates.items():
            other = sample.page(sample.site_path(url))
            assert other.lang == (sample.cfg.language if hreflang == "x-default" else hreflang)
            assert other.alternates == page.alternates, f"{url} does not point back at {page.url}"
    assert checked >= 10  # 4 + 2 + 2 translated posts, 2 About pages


def test_untranslated_post_has_no_alternates_and_stays_in_english(sample: Built) -> None:
    page = sample.page("posts/one-post-a-day/")
    assert page.alternates == {}
    assert not (sample.root / "es" / "posts" / "one-post-a-day").exists()


def test_sitemap_lists_the_same_alternates_as_the_pages(sample: Built) -> None:
    root = ET.parse(sample.root / "sitemap.xml").getroot()
    with_alternates = 0
    for entry in root.iter(f"{SITEMAP}url"):
        loc = entry.findtext(f"{SITEMAP}loc", "")
        links = {link.get("hreflang", ""): link.get("href", "")
                 for link in entry.iter(f"{XHTML}link")}
        assert links == sample.page(sample.site_path(loc)).alternates, loc
        with_alternates += bool(links)
    assert with_alternates >= 10


def test_language_switcher_of_a_translation_links_its_translations(sample: Built) -> None:
    for page in sample.pages():
        if "/posts/" not in page.url or not page.alternates:
            continue
        others = {lang: url for lang, url in page.alternates.items()
                  if lang not in ("x-default", page.lang)}
        shown = {a["hreflang"]: a["href"] for a in page.switcher}
        assert shown == others, page.url
        for link in page.switcher:
            assert link["lang"] == link["hreflang"]
            assert sample.page(sample.site_path(link["href"])).lang == link["hreflang"]


def test_language_switcher_on_listings_links_every_home(sample: Built) -> None:
    page = sample.page("es/")
    homes = {a["hreflang"]: (a["href"], a.get("aria-current")) for a in page.switcher}
    assert homes == {"en": (sample.url(""), None), "es": (sample.url("es/"), "true"),
                     "am": (sample.url("am/"), None), "zh": (sample.url("zh/"), None)}


def test_posts_appear_only_in_their_own_languages_listings(sample: Built) -> None:
    """Links to posts (other than the language switcher's) stay within the page's language."""
    for page in sample.pages():
        here = sample.language_of(sample.site_path(page.url))
        if page.url == sample.url("share-preview/"):
            continue  # the writers' page previews every language's posts
        for link in page.links:
            href = link["href"]
            if "hreflang" in link or not href.startswith(sample.cfg.base_url):
                continue
            path = sample.site_path(urlsplit(href)._replace(query="", fragment="").geturl())
            if POST_PATH.match(path):
                assert sample.language_of(path) == here, f"{page.url} links to {href}"
    spanish_home = {a["href"] for a in sample.page("es/").links}
    assert sample.url("es/posts/principal-equity-answer/") in spanish_home
    assert sample.url("posts/one-post-a-day/") not in spanish_home
    assert sample.url("es/posts/one-post-a-day/") not in spanish_home


@pytest.mark.parametrize("lang", ["es", "am", "zh"])
def test_each_language_has_its_own_feeds(sample: Built, lang: str) -> None:
    rss = ET.parse(sample.root / lang / "feed.xml").getroot()
    assert rss.findtext("channel/language") == lang
    rss_links = [item.findtext("link", "") for item in rss.iter("item")]
    atom = ET.parse(sample.root / lang / "atom.xml").getroot()
    assert atom.get(XML_LANG) == lang
    atom_links = [e.get("href", "") for entry in atom.iter(f"{ATOM}entry")
                  for e in entry.iter(f"{ATOM}link")]
    assert rss_links
    assert sorted(rss_links) == sorted(atom_links)
    assert all(sample.site_path(url).startswith(f"{lang}/posts/") for url in rss_links)
    campaign = ET.parse(sample.root / lang / "campaigns" / "sel" / "feed.xml").getroot()
    assert campaign.findtext("channel/language") == lang
    # RSS dates are RFC 822's whatever the language: English names, a numeric offset.
    for item in rss.iter("item"):
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate", "")).tzinfo
        assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|"
                            r"Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
                            item.findtext("pubDate", ""))
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator")


def test_page_titles_made_in_python_are_translated(sample: Built) -> None:
    for path, title in (("es/tags/", "Etiquetas"), ("es/archive/", "Archivo"),
                        ("zh/tags/", "标签"), ("tags/", "Tags")):
        html = (sample.root / path / "index.html").read_text(encoding="utf-8")
        site_title = sample.cfg.localized(path.split("/")[0]).title
        assert f"<title>{title} · {site_title.replace('&', '&amp;')}</title>" in html
        assert f'<meta property="og:title" content="{title}">' in html


# -- a right-to-left site -------------------------------------------------------------------

ARABIC_SITE: Mapping[str, str] = {
    "site.yaml": """\
title: Test Schools
base_url: https://example.org/rtl/
language: en
languages: [ar]
campaigns:
  families:
    name: Families
    handle: TestFamilies
""",
    "posts/2026-04-02-welcome.md": """\
---
title: Welcome, families
date: 2026-04-02
campaign: families
---
Hello.
""",
    "posts/2026-04-02-welcome.ar.md": """\
---
title: أهلًا بالعائلات
date: 2026-04-02
campaign: families
tags: [عائلات]
---
مرحبًا.
""",
}


def test_arabic_pages_are_right_to_left_with_arabic_strings(tmp_path: Path) -> None:
    write_tree(tmp_path / "content", ARABIC_SITE)
    site = build_site(tmp_path / "content", tmp_path / "output")
    post = site.page("ar/posts/welcome/")
    assert (post.lang, post.dir) == ("ar", "rtl")
    texts = {_words(t) for t in post.texts}
    assert {"انتقل إلى المحتوى الرئيسي", "المشاركة على X", "الوسوم",
            "هذا المنشور بلغات أخرى"} <= texts
    assert post.published == "2 أبريل 2026"
    assert set(post.alternates) == {"en", "ar", "x-default"}
    for path in ("ar/", "ar/tags/", "ar/archive/", "ar/campaigns/families/"):
        assert (site.page(path).lang, site.page(path).dir) == ("ar", "rtl"), path
    tag = site.page(site.site_path(next(a["href"] for a in post.links if "/tags/" in a["href"])))
    assert "المنشورات الموسومة بـ«عائلات»" in {_words(t) for t in tag.texts}
    english = site.page("posts/welcome/")
    assert (english.lang, english.dir) == ("en", "ltr")
    assert "Skip to main content" in {_words(t) for t in english.texts}
    assert ET.parse(site.root / "ar" / "atom.xml").getroot().get(XML_LANG) == "ar"


def test_a_site_in_arabic_first_gets_arabic_site_pages(tmp_path: Path) -> None:
    """The 404 and share pages exist once, in the site's main language."""
    files = dict(ARABIC_SITE)
    files["site.yaml"] = files["site.yaml"].replace("language: en\nlanguages: [ar]",
                                                    "language: ar\nlanguages: [en]")
    # Without a language in its name, a file is in the main language: now Arabic.
    files["posts/2026-04-02-welcome.md"] = files["posts/2026-04-02-welcome.md"].replace(
        "campaign: families\n", "campaign: families\nlang: en\n")
    write_tree(tmp_path / "content", files)
    site = build_site(tmp_path / "content", tmp_path / "output")
    missing = site.page("404.html")
    assert (missing.lang, missing.dir) == ("ar", "rtl")
    assert {"الصفحة غير موجودة", "تصفح الأرشيف"} <= {_words(t) for t in missing.texts}
    html = (site.root / "404.html").read_text(encoding="utf-8")
    assert "<title>الصفحة غير موجودة · Test Schools</title>" in html
    mastodon = site.page("share/mastodon/")
    assert (mastodon.lang, mastodon.dir) == ("ar", "rtl")
    assert {"المشاركة على Mastodon", "افتح خادمي"} <= {_words(t) for t in mastodon.texts}
    home = site.page("")
    assert (home.lang, home.dir) == ("ar", "rtl")
    assert (site.page("en/").lang, site.page("en/").dir) == ("en", "ltr")


def test_site_and_campaign_names_in_the_pages_language(sample: Built) -> None:
    """``translations:`` in site.yaml: the Spanish pages carry the Spanish names."""
    home = (sample.root / "es" / "index.html").read_text()
    assert "<title>CCPS Equidad y SEL</title>" in home
    assert "Aprendizaje Socioemocional en CCPS" in home
    assert 'class="site-title" href="./">CCPS Equidad y SEL<' in home
    amharic = (sample.root / "am" / "index.html").read_text()
    assert 'lang="en">CCPS Equity &amp; SEL<' in amharic, "untranslated words keep their tag"
