"""The site model: which posts are published, where each lives, and every listing.

A pure function of the config, the parsed posts and their rendered bodies. Languages are
first-class: each language has its own home, campaign, tag and archive listings, and
translations of one post share a key and link to each other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import PurePosixPath

from .cache import Body
from .config import SiteConfig
from .content import Post
from .errors import Problem
from .markup import SITE, SOURCE
from .urls import Urls, slugify

RESERVED = frozenset({"posts", "campaigns", "tags", "archive", "page", "assets", "images",
                      "cards", "share", "share-preview", "feed.xml", "atom.xml", "sitemap.xml",
                      "robots.txt", "404.html", "__microsite"})
_SOURCE_LINK = re.compile(re.escape(SOURCE) + r"([^\"'#?\s]+)")


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str  # a site path
    lang: str = ""
    key: str = ""  # what the link stands for, e.g. a tag's slug


@dataclass(frozen=True, slots=True)
class Card:
    """A post as listings show it: no body, so listings don't change when a body does."""

    title: str
    url: str
    date: datetime
    lang: str
    campaign: str
    summary: str
    image: str
    image_alt: str
    tags: tuple[Link, ...]
    draft: bool = False
    scheduled: bool = False

    def __hash__(self) -> int:
        return hash((self.url, self.title))  # a few fields suffice (equal records, equal hashes)


@dataclass(frozen=True, slots=True)
class Article:
    """A published post or page with everything its own page shows."""

    post: Post
    url: str
    body: Body  # the rendered Markdown; its HTML is read when a page shows it
    # Each content file the body links to, with its page (``""``: not published, so the
    # link goes to the home page).
    links: tuple[tuple[str, str], ...] = ()
    tags: tuple[Link, ...] = ()
    prev: Link | None = None  # older
    next: Link | None = None  # newer
    translations: tuple[Link, ...] = ()  # the other languages' versions
    scheduled: bool = False

    @property
    def html(self) -> str:
        """The body's HTML with ``site:`` link markers (bound by the page that shows it)."""
        return bound_html(self.body, self.links)

    @property
    def quotes(self) -> tuple[str, ...]:
        return self.body.quotes

    @property
    def headings(self) -> tuple[tuple[int, str, str], ...]:
        return self.body.headings

    @property
    def card(self) -> Card:
        p = self.post
        assert p.date is not None
        return Card(p.title, self.url, p.date, p.lang, p.campaign, p.summary, p.image,
                    p.image_alt, self.tags, p.draft, self.scheduled)

    def __hash__(self) -> int:
        return hash((self.url, self.post))  # a few fields suffice (equal records, equal hashes)


@dataclass(frozen=True, slots=True)
class Listing:
    """A paginated list of posts: a home page, a campaign, a tag, or an archive year."""

    kind: str  # "home" | "campaign" | "tag" | "year"
    key: str  # campaign id, tag slug or year; "" for home
    title: str
    lang: str
    urls: tuple[str, ...]  # one site path per page
    pages: tuple[tuple[Card, ...], ...]

    def __hash__(self) -> int:
        return hash((self.kind, self.key, self.lang, self.urls))  # as for Card


@dataclass(frozen=True, slots=True)
class Language:
    """Everything published in one language."""

    lang: str
    posts: tuple[Article, ...]  # newest first
    pages: tuple[Article, ...]
    home: Listing
    campaigns: tuple[Listing, ...]
    tags: tuple[Listing, ...]
    years: tuple[Listing, ...]


@dataclass(frozen=True, slots=True)
class Site:
    cfg: SiteConfig
    urls: Urls
    languages: tuple[Language, ...]  # the default language first

    def language(self, lang: str) -> Language:
        return next(lang_site for lang_site in self.languages if lang_site.lang == lang)

    @property
    def articles(self) -> Iterable[Article]:
        for lang_site in self.languages:
            yield from lang_site.posts
            yield from lang_site.pages


def _shown(cfg: SiteConfig, post: Post) -> str:
    """A file named as the writer sees it in messages: ``content/posts/x.md``."""
    return f"{cfg.content_dir.name}/{post.rel}"


def _chunks(cards: Sequence[Card], size: int) -> tuple[tuple[Card, ...], ...]:
    chunks = tuple(tuple(cards[i:i + size]) for i in range(0, len(cards), size))
    return chunks or ((),)


def _listing(kind: str, key: str, title: str, lang: str, cards: Sequence[Card],
             per_page: int, urls: Urls) -> Listing:
    pages = _chunks(cards, per_page)
    paths = []
    for number in range(1, len(pages) + 1):
        if kind == "home":
            paths.append(urls.home(lang, number))
        elif kind == "campaign":
            paths.append(urls.campaign(lang, key, number))
        elif kind == "tag":
            paths.append(urls.tag(lang, key, number))
        else:
            paths.append(urls.archive(lang, int(key)) if number == 1
                         else f"{urls.archive(lang, int(key))}page/{number}/")
    return Listing(kind, key, title, lang, tuple(paths), pages)


def _resolve_translations(cfg: SiteConfig, posts: Sequence[Post], problems: list[Problem]
                          ) -> list[Post]:
    """Give translations named by ``translation_of`` their original's key; check clashes."""
    by_name: dict[str, Post] = {}
    for post in posts:
        if not post.translation_of:
            for name in (str(post.rel), post.rel.name, post.rel.name.removesuffix(".md"),
                         post.slug):
                by_name.setdefault(name, post)
    resolved: list[Post] = []
    for post in posts:
        if post.translation_of:
            original = by_name.get(post.translation_of) or by_name.get(
                post.translation_of.removeprefix("posts/").removeprefix("pages/"))
            if original is None or original.kind != post.kind:
                problems.append(Problem(post.source, post.line("translation_of"),
                                        f"'translation_of' names \"{post.translation_of}\", but "
                                        f"no {post.kind} has that file name or slug"))
            else:
                resolved.append(replace(post, key=original.key))
        else:
            resolved.append(post)
    seen: dict[tuple[str, str], Post] = {}
    for post in sorted(resolved, key=lambda p: (p.translation_of != "", str(p.rel))):
        first = seen.setdefault((post.key, post.lang), post)
        if first is not post:
            problems.append(Problem(post.source, post.line("lang"),
                                    f"this is a second '{post.lang}' version of "
                                    f"{_shown(cfg, first)}; change its 'lang' or its "
                                    "'translation_of'"))
    return [p for p in resolved if seen.get((p.key, p.lang)) is p]


def build_site(cfg: SiteConfig, posts: Sequence[Post], bodies: Mapping[PurePosixPath, Body],
               now: datetime, *, future: bool = False
               ) -> tuple[Site, list[Problem]]:
    """Place every post and page, link translations, and make every listing."""
    urls = Urls(cfg.base_url, cfg.language)
    problems: list[Problem] = []
    posts = _resolve_translations(cfg, posts, problems)

    url_of: dict[PurePosixPath, str] = {}
    owner: dict[str, Post] = {}
    reserved = RESERVED | set(cfg.all_languages)
    for post in posts:
        url = (urls.post if post.kind == "post" else urls.page)(post.lang, post.slug)
        if post.kind == "page" and post.slug in reserved:
            problems.append(Problem(post.source, post.line("slug"),
                                    f"this page's address {url} is used by the site itself; "
                                    "give the page another 'slug'"))
            continue
        if url in owner:
            problems.append(Problem(post.source, post.line("slug"),
                                    f"this {post.kind}'s address {url} is already used by "
                                    f"{_shown(cfg, owner[url])}; give one of them a different "
                                    "'slug'"))
            continue
        owner[url] = post
        url_of[post.rel] = url
    by_key: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        if post.rel in url_of:
            by_key[post.key].append(post)

    def links_of(post: Post, body: Body) -> tuple[tuple[str, str], ...]:
        def unpublished(target: str, line: int | None) -> None:
            problems.append(Problem(post.source, None if line is None else post.body_line + line,
                                    f"links to {target}, which is not published "
                                    "(a draft, scheduled, or has errors)"))
        return _links(body, url_of, unpublished)

    tag_names: dict[tuple[str, str], str] = {}
    articles: dict[str, list[Article]] = defaultdict(list)
    for post in posts:
        if post.rel not in url_of:
            continue
        body = bodies[post.rel]
        for line, message in body.problems:
            problems.append(Problem(post.source, post.body_line + (line or 0), message))
        tag_links = []
        for tag in post.tags:
            slug = slugify(tag)
            tag_names.setdefault((post.lang, slug), tag)
            tag_links.append(Link(tag_names[(post.lang, slug)], urls.tag(post.lang, slug),
                                  key=slug))
        versions = by_key[post.key]
        translations = tuple(
            Link(other.title, url_of[other.rel], other.lang)
            for other in sorted(versions, key=lambda p: cfg.all_languages.index(p.lang))
            if other is not post) if len(versions) > 1 else ()
        articles[post.lang].append(Article(
            post=post, url=url_of[post.rel], body=body, links=links_of(post, body),
            tags=tuple(tag_links),
            translations=translations,
            scheduled=post.date is not None and post.date > now and future))

    languages = []
    for lang in cfg.all_languages:
        items = articles.get(lang, [])
        dated = sorted((a for a in items if a.post.kind == "post"),
                       key=lambda a: (a.post.date or now, a.url), reverse=True)
        dated = _chain(dated)
        pages = tuple(sorted((a for a in items if a.post.kind == "page"),
                             key=lambda a: a.post.title.casefold()))
        languages.append(_language(cfg.localized(lang), urls, lang, tuple(dated), pages,
                                   tag_names))
    return Site(cfg, urls, tuple(languages)), problems


def _chain(newest_first: list[Article]) -> list[Article]:
    out = []
    for i, article in enumerate(newest_first):
        newer = newest_first[i - 1] if i > 0 else None
        older = newest_first[i + 1] if i + 1 < len(newest_first) else None
        out.append(replace(
            article,
            prev=Link(older.post.title, older.url) if older else None,
            next=Link(newer.post.title, newer.url) if newer else None))
    return out


def _language(cfg: SiteConfig, urls: Urls, lang: str, posts: tuple[Article, ...],
              pages: tuple[Article, ...], tag_names: Mapping[tuple[str, str], str]) -> Language:
    cards = [a.card for a in posts]
    per = cfg.posts_per_page
    campaigns = tuple(
        _listing("campaign", c.id, c.name, lang, [k for k in cards if k.campaign == c.id],
                 per, urls) for c in cfg.campaigns)
    tagged: dict[str, list[Card]] = defaultdict(list)
    for card in cards:
        for tag in card.tags:
            tagged[tag.key].append(card)
    tags = tuple(sorted(
        (_listing("tag", slug, tag_names[(lang, slug)], lang, group, per, urls)
         for slug, group in tagged.items()), key=lambda t: (t.title.casefold(), t.key)))
    years: dict[int, list[Card]] = defaultdict(list)
    for card in cards:
        years[card.date.year].append(card)
    year_listings = tuple(
        _listing("year", str(year), str(year), lang, group, 100, urls)
        for year, group in sorted(years.items(), reverse=True))
    return Language(lang, posts, pages, _listing("home", "", cfg.title, lang, cards, per,
                                                urls), campaigns, tags, year_listings)


def published(posts: Iterable[Post], now: datetime, *, drafts: bool, future: bool
              ) -> tuple[list[Post], int]:
    """Drop drafts and scheduled posts unless asked to show them; count the scheduled."""
    kept: list[Post] = []
    scheduled = 0
    for post in posts:
        if post.draft and not drafts:
            continue
        if post.date is not None and post.date > now and not future:
            scheduled += 1
            continue
        kept.append(post)
    return kept, scheduled


@dataclass(frozen=True, slots=True)
class SiteMemo:
    """What a preview keeps of its last build's site, for :func:`refresh_site`."""

    posts: tuple[Post, ...]  # as given to build_site
    bodies: Mapping[PurePosixPath, Body]
    future: bool
    site: Site


def remember_site(posts: Sequence[Post], bodies: Mapping[PurePosixPath, Body],
                  future: bool, site: Site, problems: Sequence[Problem]) -> SiteMemo | None:
    """A memo of a clean build (one with problems is always built again in full)."""
    return None if problems else SiteMemo(tuple(posts), dict(bodies), future, site)


def refresh_site(memo: SiteMemo | None, cfg: SiteConfig, posts: Sequence[Post],
                 bodies: Mapping[PurePosixPath, Body], now: datetime, *,
                 future: bool = False) -> Site | None:
    """The last build's site with new bodies put in, when only bodies changed: the same
    settings, the same posts with the same front matter, each still on the same side of
    ``now``. Listings, links and cards show no body, so they stay as they were. None when
    anything else changed, or a new body has a problem: then :func:`build_site` it is."""
    if memo is None or memo.future != future or cfg != memo.site.cfg \
            or len(posts) != len(memo.posts):
        return None
    changed: dict[PurePosixPath, Post] = {}
    for new, old in zip(posts, memo.posts, strict=True):
        if new is not old:
            if new.rel != old.rel or _shown_fields(new) != _shown_fields(old):
                return None
            changed[new.rel] = new
        elif bodies[new.rel] is not memo.bodies.get(new.rel):
            changed[new.rel] = new
    articles = {a.post.rel: a for a in memo.site.articles}
    if future and any(a.scheduled != (a.post.date is not None and a.post.date > now)
                      for a in articles.values()):
        return None
    url_of = {rel: a.url for rel, a in articles.items()}
    fresh: dict[int, Article] = {}
    for rel, post in changed.items():
        old_article = articles.get(rel)
        body = bodies[rel]
        unpublished: list[str] = []
        links = _links(body, url_of, lambda target, _line: unpublished.append(target))  # noqa: B023 (called at once)
        if old_article is None or body.problems or unpublished:
            return None
        fresh[id(old_article)] = replace(
            old_article, post=replace(post, key=old_article.post.key), body=body, links=links)
    if not fresh:
        return memo.site
    languages = tuple(replace(lang, posts=tuple(fresh.get(id(a), a) for a in lang.posts),
                              pages=tuple(fresh.get(id(a), a) for a in lang.pages))
                      for lang in memo.site.languages)
    return replace(memo.site, languages=languages)


def _links(body: Body, url_of: Mapping[PurePosixPath, str],
           unpublished: Callable[[str, int | None], None]) -> tuple[tuple[str, str], ...]:
    """Each content file ``body`` links to with its page's site path; ``unpublished`` is
    told of each link (and its body line) to a file with no page: its link goes home."""
    links: dict[str, str] = {}
    for target, line in body.sources:
        url = url_of.get(PurePosixPath(target))
        if url is None:
            unpublished(target, line)
        links[target] = url or ""
    return tuple(links.items())


def bound_html(body: Body, links: Iterable[tuple[str, str]]) -> str:
    """``body``'s HTML with each link to a content file (``site-src:posts/x.md``) made a
    link to its page (``site:posts/x/``), given by ``links``; a file with no page, to the
    home page."""
    html = body.html
    if SOURCE not in html:
        return html
    pages = dict(links)
    return _SOURCE_LINK.sub(lambda match: SITE + pages.get(match.group(1), ""), html)


def _shown_fields(post: Post) -> tuple[object, ...]:
    """Everything of a post but its body and where things are in its file."""
    return tuple(getattr(post, f.name) for f in fields(post) if f.metadata.get("digest", True))
