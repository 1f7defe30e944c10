"""What each page offers to share: its tweet, its share links and its quotes' links.

Built from the site model with the primitives in :mod:`generator.social`. Composing a tweet
that fits takes a few milliseconds, so results are cached on disk by their inputs and
the misses are spread over every core; a rebuild composes only what changed. A page's
share links (a few kB of long addresses a page) are made from its tweet only when the
page is made, in the worker making it: the build's main process keeps what they are made
from (``Links``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tweetcount
from .config import Campaign, ShareConfig, SiteConfig
from .errors import Problem, warning
from .site import Article, Site
from .social import ShareLink, Tweet, compose_quote, compose_tweet, share_links, share_url
from .social import x_intent as intent_url
from .store import load_pickle, save_pickle
from .tweetcount import MAX_WEIGHTED_LENGTH
from .workers import in_background, map_shared

log = logging.getLogger(__name__)
SHARING_VERSION = "3"


@dataclass(frozen=True, slots=True)
class Request:
    """Everything a page's sharing depends on."""

    path: str  # site path of the page
    title: str
    summary: str = ""
    handwritten: str = ""
    hashtags: tuple[str, ...] = ()  # the campaign's
    extra_hashtags: tuple[str, ...] = ()  # the post's own
    handle: str = ""
    related: tuple[str, ...] = ()
    campaign_id: str = ""
    quotes: tuple[str, ...] = ()
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Links:
    """What a page's share links are made from, besides its tweet (see ``share_links``)."""

    networks: tuple[str, ...]
    title: str
    summary: str
    page_url: str
    campaign_id: str
    utm: bool
    mastodon_page: str


@dataclass(frozen=True, slots=True)
class Share:
    tweet: Tweet
    made_from: Links  # the rest of what ``links`` are made from
    quotes: tuple[tuple[str, str, int], ...] = ()  # (quote, X link, weighted length)

    @property
    def links(self) -> tuple[ShareLink, ...]:
        """A share link per network, made each time a page shows them (once a page)."""
        made = self.made_from
        return share_links(self.tweet, networks=made.networks, title=made.title,
                           summary=made.summary, page_url=made.page_url,
                           campaign_id=made.campaign_id, utm=made.utm,
                           mastodon_page=made.mastodon_page)

    def __hash__(self) -> int:
        return hash(self.tweet.full)  # a few fields suffice, as for site.Card


def _campaign_fields(campaign: Campaign | None) -> dict[str, Any]:
    if campaign is None:
        return {}
    return {"hashtags": campaign.hashtags, "handle": campaign.handle,
            "related": campaign.related, "campaign_id": campaign.id}


def requests(site: Site) -> Iterator[Request]:
    """One request per post, page, campaign page and home page."""
    for article in site.articles:
        yield _article_request(site.cfg, article)
    yield from _listing_requests(site)


def _article_request(cfg: SiteConfig, article: Article) -> Request:
    post = article.post
    campaign = cfg.campaign(post.campaign) if post.campaign else None  # handles, tags
    return Request(path=article.url, title=post.title, summary=post.summary,
                   handwritten=post.tweet, extra_hashtags=post.hashtags,
                   quotes=article.quotes, lang=post.lang, **_campaign_fields(campaign))


def _listing_requests(site: Site) -> Iterator[Request]:
    cfg = site.cfg
    for lang in site.languages:
        words = cfg.localized(lang.lang)
        yield Request(path=lang.home.urls[0], title=words.title, summary=words.description,
                      lang=lang.lang)
        for listing in lang.campaigns:
            campaign = words.campaign(listing.key)
            yield Request(path=listing.urls[0], title=listing.title,
                          summary=campaign.description if campaign else "",
                          lang=lang.lang, **_campaign_fields(campaign))


def _compose(cfg: SiteConfig, mastodon_page: Callable[[str], str]
             ) -> Callable[[Sequence[Request]], list[Share]]:
    def run(batch: Sequence[Request]) -> list[Share]:
        out = []
        for r in batch:
            page_url = cfg.base_url + r.path
            tweet = compose_tweet(
                title=r.title, summary=r.summary, handwritten=r.handwritten,
                url=share_url(page_url, "x", campaign_id=r.campaign_id or "site",
                              utm=cfg.share.utm),
                hashtags=r.hashtags, extra_hashtags=r.extra_hashtags, handle=r.handle,
                related=r.related)
            links = Links(tuple(cfg.share.networks), r.title, r.summary, page_url,
                          r.campaign_id or "site", cfg.share.utm, mastodon_page(r.lang))
            quotes = []
            for quote in r.quotes:
                q = compose_quote(quote, url=tweet.url, handle=r.handle, hashtags=r.hashtags[:1])
                quotes.append((quote, intent_url(q), q.length))
            out.append(Share(tweet, links, tuple(quotes)))
        return out
    return run


def _key(cfg: SiteConfig, request: Request) -> str:
    return _key_of(cfg.base_url, cfg.share, request)


@functools.lru_cache(maxsize=1 << 16)  # a preview asks again for every unchanged page
def _key_of(base_url: str, share: ShareConfig, request: Request) -> str:
    text = repr((SHARING_VERSION, base_url, share, request))
    return hashlib.sha256(text.encode()).hexdigest()


def share_site(site: Site, cache_dir: Path | None, processes: int,
               memory: dict[str, Share] | None = None,
               known: dict[str, tuple[object, ...]] | None = None) -> dict[str, Share]:
    """Every page's Share, by site path. A preview passes ``memory`` (its in-process cache)
    and ``known`` (each article's cache key last time, reused while the article and the
    settings are the very same objects)."""
    cfg = site.cfg
    wanted: dict[str, Request] = {}
    keys: dict[str, str] = {}
    now_known: dict[str, tuple[object, ...]] = {}
    for article in site.articles:
        last = known.get(article.url) if known is not None else None
        if last is not None and last[0] is article and last[1] is cfg:
            keys[article.url] = str(last[2])
        else:
            request = wanted[article.url] = _article_request(cfg, article)
            keys[article.url] = _key(cfg, request)
        now_known[article.url] = (article, cfg, keys[article.url])
    for request in _listing_requests(site):
        wanted[request.path] = request
        keys[request.path] = _key(cfg, request)
    if known is not None:
        known.clear()
        known.update(now_known)
    cache_file = cache_dir / "sharing.pickle" if cache_dir else None
    if memory:
        cached = memory
    else:
        cached = load_pickle(cache_file, SHARING_VERSION)
        if memory is not None:
            memory.update(cached)
            cached = memory
    missing: list[Request] = []
    for path in sorted(keys):
        if keys[path] not in cached:
            asked = wanted.get(path)
            if asked is None:  # known by its key alone, but no longer in the cache
                asked = _article_request(cfg, next(a for a in site.articles if a.url == path))
            missing.append(asked)
    def mastodon(lang: str) -> str:  # the share page in the reader's language
        return cfg.base_url + site.urls.mastodon_share(lang)

    if missing:
        tweetcount.prepare()  # before the workers are forked
    fresh = map_shared(_compose(cfg, mastodon), missing, processes, minimum=100)
    for request, share in zip(missing, fresh, strict=True):
        cached[keys[request.path]] = share
    if cache_file and missing:  # saved by a background process (see build.build)
        in_background(functools.partial(save_pickle, cache_file, SHARING_VERSION,
                                        {keys[p]: cached[keys[p]] for p in keys}))
    return {path: cached[keys[path]] for path in keys}


def problems(site: Site, shares: Mapping[str, Share]) -> list[Problem]:
    """A hand-written tweet that does not fit is a warning (an error with --strict)."""
    found = []
    for article in site.articles:
        share = shares.get(article.url)
        over = share.tweet.handwritten_length if share else None
        if share and over is not None and over > MAX_WEIGHTED_LENGTH:
            post = article.post
            found.append(warning(post.source, post.line("tweet"),
                                 f"'tweet' is {over}/{MAX_WEIGHTED_LENGTH} as X counts it "
                                 "(with the link, hashtags and via), so the share link "
                                 "shortens it with …; make it shorter"))
    return found


