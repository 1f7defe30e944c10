"""RSS 2.0 and Atom 1.0 feeds out, written by feedgenerator (deterministic for the same site)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedgenerator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


class _Stable:
    """Feeds with no entries get a fixed date instead of feedgenerator's ``now()``."""

    items: list[dict[str, Any]]

    def latest_post_date(self) -> datetime:
        dates = [i["updateddate"] or i["pubdate"] for i in self.items]
        return max((d for d in dates if d is not None), default=EPOCH)


class _Atom(_Stable, feedgenerator.Atom1Feed):  # type: ignore[misc]
    pass


class _Rss(_Stable, feedgenerator.Rss201rev2Feed):  # type: ignore[misc]
    pass


def render_feed(spec: FeedSpec) -> bytes:
    """The feed document as UTF-8 bytes."""
    cls = _Atom if spec.fmt == "atom" else _Rss
    feed = cls(title=spec.title, link=spec.link, description=spec.description or spec.title,
               language=spec.lang, feed_url=spec.self_url, feed_guid=spec.self_url,
               author_name=spec.author)
    for item in spec.items:
        feed.add_item(
            title=item.title, link=item.link,
            # RSS readers show <description>, so it carries the full post; Atom has both.
            description=str(item.content) if spec.fmt == "rss"
            else (item.summary or item.title),
            content=str(item.content) if spec.fmt == "atom" else None,
            unique_id=item.id, unique_id_is_permalink=True,
            pubdate=item.published, updateddate=item.updated,
            author_name=item.author or spec.author, categories=item.categories,
        )
    out = io.StringIO()
    feed.write(out, "utf-8")
    return out.getvalue().encode("utf-8")
