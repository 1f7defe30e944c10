"""RSS 2.0 and Atom 1.0 feeds: what a feed carries, written by the theme's templates.

``feeds/rss.xml`` and ``feeds/atom.xml`` are Jinja templates like the pages' (autoescaped, so
every text and the posts' HTML go in escaped), as Hugo's and Eleventy's feeds are: a theme may
override them. A feed is given ``feed`` (its ``FeedSpec``) and ``updated``, the latest date
among its entries (a fixed date for a feed with none), so the same site gives the same bytes.
Dates are filtered by ``iso`` (RFC 3339, for Atom) or ``rfc822`` (for RSS); a writer's files
cannot bring control characters, which XML forbids (see ``source.read_text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

import jinja2

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TEMPLATES = MappingProxyType({"rss": "feeds/rss.xml", "atom": "feeds/atom.xml"})


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str
    link: str  # absolute
    id: str  # stable: the post's canonical URL
    published: datetime
    updated: datetime
    summary: str
    content: object  # full HTML, links absolute: made by str() when the feed is written
    author: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedSpec:
    fmt: str  # "rss" | "atom"
    title: str
    link: str  # the HTML page the feed mirrors, absolute
    self_url: str  # the feed's own URL, absolute
    description: str
    lang: str
    author: str
    items: tuple[FeedItem, ...]


def render_feed(env: jinja2.Environment, template: str, spec: FeedSpec) -> bytes:
    """The feed document as UTF-8 bytes, by ``template`` (its job's: ``TEMPLATES[spec.fmt]``,
    the template its digest is salted with)."""
    updated = max((item.updated for item in spec.items), default=EPOCH)
    return env.get_template(template).render(feed=spec, updated=updated).encode("utf-8")
