"""The plan: one job per output file, each carrying everything needed to make it.

A job is a frozen value, so the same job always makes the same bytes; its digest is what
incremental builds compare. Nothing here reads or writes files.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import Body
from .cards import CardSpec, card_key
from .config import Campaign, SiteConfig
from .embeds import LINK_REL, EmbedFeed
from .feeds import TEMPLATES, FeedItem, FeedSpec
from .incremental import Fingerprints
from .render import Catalogue, bind_links, direction
from .sharing import Share
from .site import Article, Card, Language, Link, Listing, Site, bound_html
from .urls import Urls


@dataclass(frozen=True, slots=True)
class Meta:
    """What the ``<head>`` says about a page."""

    title: str  # the <title>
    heading: str  # the <h1>
    description: str
    canonical: str  # absolute
    og_type: str = "website"
    image: str = ""  # absolute
    image_alt: str = ""
    image_size: tuple[int, int] = (0, 0)
    twitter_site: str = ""
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, absolute URL)
    feeds: tuple[tuple[str, str, str], ...] = ()  # (MIME type, title, site path)
    noindex: bool = False

    def __hash__(self) -> int:
        return hash((self.canonical, self.title))  # a few fields suffice, as for site.Card


@dataclass(frozen=True, slots=True)
class Nav:
    """What every page of one language links to."""

    lang: str
    home: str
    campaigns: tuple[Link, ...]
    pages: tuple[Link, ...]
    tags: str
    archive: str
    feed: str
    atom: str
    languages: tuple[Link, ...]  # each language's home, for the switcher


# Page context names whose value is the same for every page of a language (see Planner.page)
_COMMON = frozenset({"lang", "dir", "cfg", "nav", "rooted_links", "LINK_REL", "image_sizes",
                     "live"})


@dataclass(frozen=True, slots=True)
class Job:
    """One output file: a page from a template, a feed, a copied file or given bytes."""

    path: str  # site path
    kind: str  # "page" | "feed" | "copy" | "bytes"
    origin: str  # what asked for it, for messages about clashes
    template: str = ""
    context: tuple[tuple[str, Any], ...] = ()
    feed: FeedSpec | None = None
    source: Path | None = None
    data: bytes = b""
    digest_extra: str = field(default="", compare=False)

    def digest(self, salt: str = "", prints: Fingerprints | None = None) -> str:
        """Changes whenever anything this job's output depends on changes."""
        prints = prints or Fingerprints()
        h = hashlib.sha256(salt.encode())
        # Plain values go in together, as the repr of a tuple (exact for str, int, bool and
        # None); records by their digests, which Fingerprints keeps.
        plain: list[object] = [self.path, self.kind, self.template, str(self.source),
                               self.digest_extra]
        if self.feed is not None:
            h.update(prints.of(self.feed))
        seen = prints.seen  # records shared by many jobs (nav, config) are looked up inline
        for key, value in self.context:
            kind = type(value)
            if kind is str or kind is bool or kind is int or value is None:
                plain.append(key)
                plain.append(value)
                continue
            h.update(b"%s=o" % key.encode())
            found = seen.get(id(value))
            if found is not None:
                h.update(b"o")
                h.update(found)
            else:
                prints._feed(h, value)
        h.update(repr(plain).encode("utf-8", "surrogatepass"))
        h.update(self.data)
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class _Sizes:
    """Width and height of each image, as templates ask for them (``x in image_sizes``,
    ``image_sizes[x]``); frozen, so a preview can recognise it from one build to the next."""

    pairs: tuple[tuple[str, tuple[int, int]], ...]
    lookup: dict[str, tuple[int, int]] = field(compare=False, repr=False,
                                               metadata={"digest": False})

    @classmethod
    def of(cls, sizes: Mapping[str, tuple[int, int]]) -> _Sizes:
        return cls(tuple(sorted(sizes.items())), dict(sizes))

    def __contains__(self, name: object) -> bool:
        return name in self.lookup

    def __getitem__(self, name: str) -> tuple[int, int]:
        return self.lookup[name]


CARD_SIZE = (1200, 630)
FEED_ITEMS = 20  # newest posts in each feed
PREVIEW_PAGE = 30  # posts per page of the writers' share preview


@dataclass(frozen=True, slots=True)
class PreviewItem:
    """A post as the writers' share preview shows it."""

    url: str
    title: str
    lang: str
    image: str
    image_alt: str
    share: Share

    def __hash__(self) -> int:
        return hash((self.url, self.title))  # a few fields suffice, as for site.Card


TYPE_RSS = "application/rss+xml"
TYPE_ATOM = "application/atom+xml"


class Planner:
    """Turns a Site into jobs. ``extra`` is added to every page's context (e.g. sharing)."""

    def __init__(self, site: Site, extra: Mapping[str, Any] | None = None, *,
                 image_sizes: Mapping[str, tuple[int, int]] | None = None,
                 cards: bool = True, embeds: Mapping[str, EmbedFeed] | None = None,
                 shares: Mapping[str, Share] | None = None,
                 catalogue: Catalogue | None = None,
                 intern: Callable[[Any], Any] | None = None,
                 previous: Mapping[str, tuple[Any, ...]] | None = None) -> None:
        self.site = site
        # A preview's interner: records equal to the last build's keep their identity.
        self.intern: Callable[[Any], Any] = intern or (lambda value: value)
        # A preview's post and page jobs from its last build, by page (see ``articles``),
        # and this build's, for the next one.
        self.previous = previous or {}
        self.planned: dict[str, tuple[Any, ...]] = {}
        self._card: tuple[str, CardSpec] | None = None  # the card the last meta() asked for
        self.cfg = site.cfg
        self.urls: Urls = site.urls
        self.extra = {"image_sizes": self.intern(_Sizes.of(image_sizes or {})),
                      **(extra or {})}
        self.image_sizes = dict(image_sizes or {})
        self.make_cards = cards
        self.embeds = dict(embeds or {})
        self.shares = dict(shares or {})
        self.catalogue = catalogue or Catalogue({})
        self.images: dict[str, tuple[str, str]] = {}
        self._navs: dict[str, Nav] = {}
        self._feed_items: dict[str, FeedItem] = {}  # a post is in several feeds
        self._words: dict[str, SiteConfig] = {}
        self.cards: dict[str, CardSpec] = {}  # site path of each card -> what it shows
        # (name, value) pairs of page contexts whose value every page of a language shares,
        # made once: 24000 pages would otherwise hold 200000 equal pairs (~6 MB)
        self._pairs: dict[tuple[str, int], tuple[str, Any]] = {}

    def words(self, lang: str) -> SiteConfig:
        """The config with the site's and campaigns' names in ``lang`` (``translations:``)."""
        found = self._words.get(lang)
        if found is None:
            found = self._words[lang] = self.intern(self.cfg.localized(lang))
        return found

    def card(self, title: str, lang: str, campaign: Campaign | None) -> str:
        """A generated share image for a page without its own: its site path."""
        if not self.make_cards:
            return ""
        spec = self.intern(CardSpec(
            title=title, campaign=campaign.name if campaign else "", site=self.words(lang).title,
            color=campaign.color if campaign else self.cfg.campaigns[0].color, lang=lang))
        path = self.urls.card(card_key(spec))
        self.cards[path] = spec
        self._card = (path, spec)
        return path

    def article_cards(self) -> list[CardSpec]:
        """The cards of every post and page, in the order of their paths, as the plan will
        ask for them (the rest of the site is not planned, and no job is kept)."""
        for lang in self.site.languages:
            for _ in self.articles(lang):
                self.planned.clear()
        return [spec for _, spec in sorted(self.cards.items())]

    def card_jobs(self) -> Iterator[Job]:
        """One job per card asked for by the pages planned so far."""
        for path, spec in sorted(self.cards.items()):
            yield Job(path, "card", "share card", context=(("spec", spec),))

    # -- shared pieces --------------------------------------------------------------------
    def nav(self, lang: Language) -> Nav:
        found = self._navs.get(lang.lang)
        if found is None:
            found = self._navs[lang.lang] = self.intern(self._make_nav(lang))
        return found

    def _make_nav(self, lang: Language) -> Nav:
        u = self.urls
        return Nav(
            lang=lang.lang, home=u.home(lang.lang),
            campaigns=tuple(Link(c.name, u.campaign(lang.lang, c.id))
                            for c in self.words(lang.lang).campaigns),
            pages=tuple(Link(p.post.title, p.url) for p in lang.pages),
            tags=u.tags(lang.lang), archive=u.archive(lang.lang),
            feed=u.feed(lang.lang, "rss"), atom=u.feed(lang.lang, "atom"),
            languages=tuple(Link(_language_name(other.lang), u.home(other.lang), other.lang)
                            for other in self.site.languages),
        )

    def page(self, path: str, template: str, lang: Language, meta: Meta, origin: str,
             **context: Any) -> Job:
        full = {"here": path, "lang": lang.lang, "dir": direction(lang.lang), "meta": meta,
                "cfg": self.words(lang.lang),
                "nav": self.nav(lang), "rooted_links": False, "LINK_REL": LINK_REL,
                "share": self.shares.get(path), **self.extra, **context}
        # In the order written here (and the callers' keyword order): the same every build.
        return Job(path, "page", origin, template, tuple(
            self._pairs.setdefault((name, id(value)), (name, value)) if name in _COMMON
            else (name, value) for name, value in full.items()))

    def meta(self, path: str, title: str, description: str, *, heading: str = "",
             og_type: str = "website", campaign: Campaign | None = None,
             alternates: Sequence[tuple[str, str]] = (),
             feeds: Sequence[tuple[str, str, str]] = (), noindex: bool = False,
             image: str = "", image_alt: str = "", own_card: bool = False) -> Meta:
        """``own_card``: without an image of its own, the page gets a card with its title
        (posts, pages, campaign and home pages); other pages share the site's card."""
        words = self.words(self._lang_of(path))
        site_title = words.title
        full_title = site_title if title == site_title else f"{title} · {site_title}"
        size = self.image_sizes.get(image, (0, 0))
        if not image and not noindex:
            lang = self._lang_of(path)
            card_title = (heading or title) if own_card else site_title
            image = self.card(card_title, lang, campaign if own_card else None)
            image_alt = card_title
            size = CARD_SIZE if image else size
        self.images[path] = (image, image_alt)
        meta: Meta = self.intern(Meta(
            title=full_title, heading=heading or title,
            description=description or words.description or title,
            canonical=self.urls.absolute(path), og_type=og_type,
            image=self.urls.absolute(image) if image else "", image_alt=image_alt,
            image_size=size,
            twitter_site=campaign.handle if campaign else
            next((c.handle for c in self.cfg.campaigns if c.handle), ""),
            alternates=tuple(alternates), feeds=tuple(feeds), noindex=noindex,
        ))
        return meta

    def t(self, lang: str, message: str) -> str:
        """An interface string in ``lang`` (page titles made here, not in templates)."""
        return self.catalogue.gettext(lang, message)

    def _lang_of(self, path: str) -> str:
        first = path.split("/", 1)[0]
        return first if first in self.cfg.languages else self.cfg.language

    def alternates(self, by_lang: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        if len(by_lang) < 2:
            return ()
        pairs = [(lang, self.urls.absolute(path)) for lang, path in by_lang.items()]
        default = by_lang.get(self.cfg.language)
        if default is not None:
            pairs.append(("x-default", self.urls.absolute(default)))
        return tuple(pairs)

    # -- the pages ------------------------------------------------------------------------
    def jobs(self) -> Iterator[Job]:
        for lang in self.site.languages:
            yield from self.articles(lang)
            yield from self.listings(lang)
            yield from self.indexes(lang)
            yield from self.feeds(lang)

    def articles(self, lang: Language) -> Iterator[Job]:
        nav, words = self.nav(lang), self.words(lang.lang)
        sizes = self.extra["image_sizes"]
        for article in (*lang.posts, *lang.pages):
            inputs = (article, nav, words, self.shares.get(article.url), sizes,
                      self.extra.get("live"))
            yield self._remembered(article.url, inputs,
                                   functools.partial(self._article, lang, article))

    def _remembered(self, path: str, inputs: tuple[Any, ...], make: Callable[[], Job]) -> Job:
        """The page's job from the last build when it depends on ``inputs`` alone and all
        are the very objects they were then (records keep their identity in a preview)."""
        last = self.previous.get(path)
        if last is not None and len(last[0]) == len(inputs) \
                and all(a is b for a, b in zip(last[0], inputs, strict=True)):
            _, job, card, image = last
            assert isinstance(job, Job)
            if card is not None:
                self.cards[card[0]] = card[1]
            self.images[path] = image
        else:
            self._card = None
            job = make()
            card, image = self._card, self.images[path]
        self.planned[path] = (inputs, job, card, image)
        return job

    def _article(self, lang: Language, article: Article) -> Job:
        post = article.post
        campaign = self.words(lang.lang).campaign(post.campaign) if post.campaign else None
        versions = {post.lang: article.url, **{t.lang: t.url for t in article.translations}}
        meta = self.meta(article.url, post.title, post.summary,
                         og_type="article" if post.kind == "post" else "website",
                         campaign=campaign, alternates=self.alternates(versions),
                         image=post.image, image_alt=post.image_alt, own_card=True)
        template = "post.html" if post.kind == "post" else "page.html"
        return self.page(article.url, template, lang, meta, str(post.rel),
                         article=article, campaign=campaign)

    def _listing_feeds(self, listing: Listing) -> tuple[tuple[str, str, str], ...]:
        lang = listing.lang
        kind = {"home": "site", "campaign": "campaign", "tag": "tag"}.get(listing.kind)
        if kind is None:
            return ()
        return ((TYPE_RSS, f"{listing.title} (RSS)", self.urls.feed(lang, "rss", kind,
                                                                   listing.key)),
                (TYPE_ATOM, f"{listing.title} (Atom)", self.urls.feed(lang, "atom", kind,
                                                                     listing.key)))

    def listings(self, lang: Language) -> Iterator[Job]:
        groups: list[tuple[str, tuple[Listing, ...]]] = [
            ("home.html", (lang.home,)), ("campaign.html", lang.campaigns),
            ("tag.html", lang.tags), ("year.html", lang.years)]
        for template, listings in groups:
            for listing in listings:
                words = self.words(lang.lang)
                campaign = words.campaign(listing.key) if listing.kind == "campaign" else None
                others = tuple((other.lang, found) for other in self.site.languages
                               if (found := _same_listing(other, listing)) is not None)
                for number, (path, cards) in enumerate(zip(listing.urls, listing.pages,
                                                           strict=True), start=1):
                    embeds = self.embeds_for(listing) if number == 1 else ()
                    inputs = (listing, cards, words, campaign, self.cfg, self.nav(lang),
                              self.shares.get(path), self.extra.get("live"),
                              self.extra["image_sizes"], *(found for _, found in others),
                              *embeds)
                    yield self._remembered(path, inputs, functools.partial(
                        self._listing_page, lang, template, listing, number, path, cards,
                        campaign, others, embeds))

    def _listing_page(self, lang: Language, template: str, listing: Listing, number: int,
                      path: str, cards: tuple[Card, ...], campaign: Campaign | None,
                      others: tuple[tuple[str, Listing], ...],
                      embeds: tuple[EmbedFeed, ...]) -> Job:
        words = self.words(lang.lang)
        title = heading = listing.title
        if number > 1:
            title = f"{title} ({number}/{len(listing.urls)})"
        meta = self.meta(path, title, campaign.description if campaign else words.description,
                         heading=heading, campaign=campaign,
                         alternates=self.alternates({code: found.urls[0] for code, found
                                                     in others}) if number == 1 else (),
                         feeds=self._listing_feeds(listing),
                         own_card=listing.kind in ("home", "campaign"))
        return self.page(path, template, lang, meta, f"{listing.kind} listing",
                         listing=listing, cards=cards, number=number, campaign=campaign,
                         embeds=embeds)

    def embeds_for(self, listing: Listing) -> tuple[EmbedFeed, ...]:
        """A campaign's own feeds; on the home page, every feed some campaign embeds."""
        if listing.kind == "campaign":
            campaign = self.cfg.campaign(listing.key)
            ids: tuple[str, ...] = campaign.feeds if campaign else ()
        elif listing.kind == "home":
            ids = tuple(dict.fromkeys(f for c in self.cfg.campaigns for f in c.feeds))
        else:
            return ()
        return tuple(self.embeds[i] for i in ids if i in self.embeds and self.embeds[i].items)

    def indexes(self, lang: Language) -> Iterator[Job]:
        u = self.urls
        tags = tuple((Link(t.title, t.urls[0]), sum(len(p) for p in t.pages)) for t in lang.tags)
        title = self.t(lang.lang, "Tags")
        yield self.page(u.tags(lang.lang), "tags.html", lang,
                        self.meta(u.tags(lang.lang), title, ""), "tags", tags=tags)
        years = tuple((Link(y.title, y.urls[0]), sum(len(p) for p in y.pages))
                      for y in lang.years)
        title = self.t(lang.lang, "Archive")
        yield self.page(u.archive(lang.lang), "archive.html", lang,
                        self.meta(u.archive(lang.lang), title, ""), "archive", years=years)

    def feeds(self, lang: Language) -> Iterator[Job]:
        by_url = {a.url: a for a in lang.posts}
        items: dict[str, FeedItem] = {}  # made only for posts some feed carries
        for listing, kind in ((lang.home, "site"), *((c, "campaign") for c in lang.campaigns),
                              *((t, "tag") for t in lang.tags)):
            cards = [c for page in listing.pages for c in page][:FEED_ITEMS]
            for card in cards:
                if card.url not in items:
                    items[card.url] = self.feed_item(by_url[card.url])
            words = self.words(lang.lang)
            title = words.title if kind == "site" else f"{listing.title} · {words.title}"
            for fmt in ("rss", "atom"):
                path = self.urls.feed(lang.lang, fmt, kind, listing.key)
                spec = self.intern(FeedSpec(
                    fmt=fmt, title=title, link=self.urls.absolute(listing.urls[0]),
                    self_url=self.urls.absolute(path), description=words.description,
                    lang=lang.lang, author=words.title, items=tuple(items[c.url] for c in cards)))
                yield Job(path, "feed", f"{listing.kind} feed", TEMPLATES[fmt], feed=spec)

    def site_files(self, pages: Sequence[Job]) -> Iterator[Job]:
        """404.html, sitemap.xml, robots.txt and .nojekyll (after every page is planned)."""
        lang = self.site.language(self.cfg.language)
        meta = self.meta("404.html", self.t(lang.lang, "Page not found"), "", noindex=True)
        missing = self.page("404.html", "404.html", lang, meta, "404 page")
        yield Job(missing.path, "page", missing.origin, missing.template,
                  tuple(sorted({**dict(missing.context), "rooted_links": True}.items())))
        entries = []
        for job in pages:
            page_meta = next((value for key, value in job.context if key == "meta"), None)
            if isinstance(page_meta, Meta) and not page_meta.noindex:
                entries.append(_sitemap_entry(page_meta))
        body = "".join(sorted(entries))
        items = tuple(
            PreviewItem(a.url, a.post.title, a.post.lang, *self.images.get(a.url, ("", "")),
                        share=self.shares[a.url])
            for lang_site in self.site.languages for a in lang_site.posts if a.url in self.shares)
        title = self.t(lang.lang, "Share preview")
        chunks = [items[i:i + PREVIEW_PAGE] for i in range(0, len(items), PREVIEW_PAGE)] or [()]
        first = self.urls.share_preview()
        paths = tuple(first if n == 1 else f"{first}page/{n}/" for n in range(1, len(chunks) + 1))
        preview = self.intern(Listing("preview", "", title, lang.lang, paths,
                                      tuple(() for _ in chunks)))
        for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
            yield self.page(path, "share-preview.html", lang,
                            self.meta(path, title, "", noindex=True), "share preview",
                            items=self.intern(chunk), listing=preview, number=number)
        for each in self.site.languages:
            mastodon = self.urls.mastodon_share(each.lang)
            yield self.page(mastodon, "mastodon.html", each,
                            self.meta(mastodon, self.t(each.lang, "Share on Mastodon"), "",
                                      noindex=True),
                            "Mastodon share page")
        yield Job("sitemap.xml", "bytes", "sitemap", data=(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
            f"{body}</urlset>\n").encode())
        yield Job("robots.txt", "bytes", "robots.txt", data=(
            f"User-agent: *\nDisallow: {self.urls.rooted(self.urls.share_preview())}\n\n"
            f"Sitemap: {self.urls.absolute('sitemap.xml')}\n").encode())
        yield Job(".nojekyll", "bytes", ".nojekyll")

    def feed_item(self, article: Article) -> FeedItem:
        known = self._feed_items.get(article.url)
        if known is None:
            known = self._feed_items[article.url] = self._make_feed_item(article)
        return known

    def _make_feed_item(self, article: Article) -> FeedItem:
        post = article.post
        assert post.date is not None
        url = self.urls.absolute(article.url)
        image = self.urls.absolute(post.image) if post.image else ""
        return FeedItem(title=post.title, link=url, id=url, published=post.date,
                        updated=post.updated or post.date, summary=post.summary,
                        content=FeedContent(article.body, article.links, image, post.image_alt,
                                            self.urls),
                        author=post.author, categories=post.tags)


@dataclass(frozen=True, slots=True)
class FeedContent:
    """A post's full HTML as feeds carry it (links absolute, its picture first), made when
    the feed is written: the HTML is read only then."""

    body: Body
    links: tuple[tuple[str, str], ...]
    image: str  # absolute, or ""
    image_alt: str
    urls: Urls = field(compare=False, repr=False, metadata={"digest": False})  # the site's

    def __str__(self) -> str:
        html = bind_links(bound_html(self.body, self.links), self.urls.absolute)
        if self.image:
            html = f'<p><img src="{self.image}" alt="{_attr(self.image_alt)}"></p>\n{html}'
        return html


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


@functools.lru_cache(maxsize=1 << 15)  # a preview asks again for every unchanged page
def _sitemap_entry(meta: Meta) -> str:
    links = "".join(f'    <xhtml:link rel="alternate" hreflang="{_attr(lang)}" '
                    f'href="{_attr(url)}"/>\n' for lang, url in meta.alternates)
    return f"  <url>\n    <loc>{_attr(meta.canonical)}</loc>\n{links}  </url>\n"


def _same_listing(lang: Language, listing: Listing) -> Listing | None:
    if listing.kind == "home":
        return lang.home
    pool = {"campaign": lang.campaigns, "tag": lang.tags, "year": lang.years}[listing.kind]
    return next((other for other in pool if other.key == listing.key), None)


_NAMES = {"en": "English", "es": "Español", "am": "አማርኛ", "zh": "中文", "vi": "Tiếng Việt",
          "fr": "Français", "ko": "한국어", "ar": "العربية", "pt": "Português"}


def _language_name(lang: str) -> str:
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415

    try:
        name = Locale.parse(lang.replace("-", "_")).get_display_name()
    except (UnknownLocaleError, ValueError):
        name = None
    return _NAMES.get(lang) or (name[:1].upper() + name[1:] if name else lang)
