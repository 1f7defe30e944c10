"""A posting plan per campaign: which message goes out when, so each team keeps its daily goal.

A pure function of the site model, the start date and what earlier plans already used. The
messages are each published post's tweet, its hand-written ``tweets:`` variants and its
click-to-tweet quotes, each fitted to 280 by the project's counter and written for the team's
own account (no "via @handle"). The rules, in order:

- every day of the plan gets ``goal_per_day`` slots at set local times (see ``slot_times``);
- the same text never goes out twice within ``REPEAT_DAYS`` days; a slot no message may fill
  stays empty and is reported as a gap;
- among the messages allowed, the least used wins, so every message goes out once before any
  comes back (evergreen posts are recycled, oldest last); ties go to newer posts, and a post's
  second message ranks with the next-newer post's first, so one post does not fill a week;
- two slots in a row do not share a story (a post and its translations) when another fits.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .config import Campaign, SiteConfig
from .errors import Problem, warning
from .sharing import Share
from .site import Article, Site
from .social import Tweet, compose_quote, compose_tweet, utm_url, weighted_length
from .source import TextError, YamlProblem, load_yaml, read_text

REPEAT_DAYS = 14
WARN_DAYS = 7
UTM_SOURCE = "x"
# (hour, minute) in order of preference. Weekdays follow the school day: before school,
# lunch, after school, evening. Weekends start later, when families are at home.
_WEEKDAY = ((7, 30), (16, 30), (12, 15), (19, 0))
_WEEKEND = ((10, 0), (17, 0), (13, 30), (19, 30))
_SPREAD = {False: (7 * 60, 21 * 60), True: (9 * 60, 21 * 60)}  # minutes, for over four a day


@dataclass(frozen=True, slots=True)
class Message:
    """One thing a team can post: words and hashtags; the link goes beside them."""

    text: str
    kind: str  # "tweet", "variant-1", "quote-2", …
    title: str  # the post's
    page: str  # the post's absolute URL, without tracking parameters
    source: Path  # the post's file
    story: str  # shared by a post and its translations
    published: datetime
    rank: tuple[int, int]  # (post's age rank + message's place in it, post's age rank)
    once: bool = False  # from a post with 'evergreen: false': planned at most once


@dataclass(frozen=True, slots=True)
class PlannedPost:
    when: datetime  # aware, in the site's time zone
    message: Message
    link: str  # the page with UTM parameters

    @property
    def full(self) -> str:
        """The post as X shows it: words, hashtags, link."""
        return f"{self.message.text} {self.link}" if self.message.text else self.link

    @property
    def length(self) -> int:
        return weighted_length(self.full)


@dataclass(frozen=True, slots=True)
class Gap:
    day: date
    planned: int
    wanted: int


@dataclass(frozen=True, slots=True)
class Plan:
    campaign: Campaign
    start: date
    days: int
    posts: tuple[PlannedPost, ...]
    gaps: tuple[Gap, ...]  # days below the goal
    messages: int  # distinct messages available
    unshared: tuple[Message, ...]  # recent posts in no earlier plan and not in the first week

    @property
    def days_at_goal(self) -> int:
        return self.days - len(self.gaps)


Used = Sequence[tuple[datetime, str]]
"""Earlier plans' posts: (when, message text)."""


def default_start(now: datetime, tz: ZoneInfo) -> date:
    """Tomorrow, in the site's time zone."""
    return now.astimezone(tz).date() + timedelta(days=1)


def daily_counts(goal: float, days: int) -> list[int]:
    """Posts wanted each day: ``goal`` a day, fractions spread evenly (1.5 → 1, 2, 1, 2, …)."""
    def total(n: int) -> int:
        return math.floor(n * goal + 1e-9)  # so 0.1 * 10 counts as 1
    return [total(i + 1) - total(i) for i in range(days)]


def slot_times(day: date, count: int, tz: ZoneInfo) -> list[datetime]:
    """``count`` local times on ``day``: weekdays 07:30, 16:30, 12:15, 19:00 (as many as needed,
    in that order), weekends 10:00, 17:00, 13:30, 19:30; more than four are spread evenly over
    07:00–21:00 (weekends 09:00–21:00) on five-minute marks."""
    weekend = day.weekday() >= 5
    preferred = _WEEKEND if weekend else _WEEKDAY
    if count <= len(preferred):
        chosen = sorted(preferred[:count])
    else:
        first, last = _SPREAD[weekend]
        chosen = sorted({divmod(round((first + (last - first) * i / (count - 1)) / 5) * 5, 60)
                         for i in range(count)})
    return [datetime.combine(day, time(hour, minute), tz) for hour, minute in chosen]


def tracked(page: str, campaign_id: str, content: str, *, utm: bool) -> str:
    """``page`` with utm_source=x, utm_medium=social, utm_campaign and utm_content."""
    if not utm:
        return page
    return (utm_url(page, source=UTM_SOURCE, campaign=campaign_id)
            + "&utm_content=" + quote(content, safe=""))


def _words(tweet: Tweet) -> str:
    tags = " ".join("#" + tag for tag in tweet.hashtags)
    return " ".join(part for part in (tweet.text, tags) if part)


def campaign_articles(site: Site, campaign_id: str, now: datetime) -> list[Article]:
    """The campaign's published posts in every language, newest first (originals first)."""
    order = {lang.lang: i for i, lang in enumerate(site.languages)}
    found = [a for lang in site.languages for a in lang.posts
             if a.post.campaign == campaign_id and a.post.date is not None
             and a.post.date <= now]
    return sorted(found, key=lambda a: (-(a.post.date or now).timestamp(), order[a.post.lang],
                                        a.url))


def _drafts(article: Article, campaign: Campaign, page: str, utm: bool
            ) -> list[tuple[str, Tweet]]:
    """(kind, tweet) for the post's tweet, its ``tweets:`` variants and its quotes."""
    post = article.post
    tags, extra = campaign.hashtags, post.hashtags
    drafts = [("tweet", compose_tweet(
        title=post.title, summary=post.summary, handwritten=post.tweet,
        url=tracked(page, campaign.id, "tweet", utm=utm), hashtags=tags, extra_hashtags=extra))]
    drafts += [(f"variant-{n}", compose_tweet(
        title=post.title, handwritten=variant,
        url=tracked(page, campaign.id, f"variant-{n}", utm=utm), hashtags=tags,
        extra_hashtags=extra)) for n, variant in enumerate(post.tweets, 1)]
    drafts += [(f"quote-{n}", compose_quote(
        said, url=tracked(page, campaign.id, f"quote-{n}", utm=utm), hashtags=tags[:1]))
        for n, said in enumerate(article.quotes, 1)]
    return drafts


def messages(site: Site, campaign: Campaign, now: datetime) -> list[Message]:
    """Every distinct message of the campaign's published posts, best first."""
    out: dict[str, Message] = {}
    for index, article in enumerate(campaign_articles(site, campaign.id, now)):
        post, page = article.post, site.urls.absolute(article.url)
        assert post.date is not None
        for step, (kind, tweet) in enumerate(_drafts(article, campaign, page,
                                                     site.cfg.share.utm)):
            text = _words(tweet)
            out.setdefault(text, Message(text, kind, post.title, page, post.source, post.key,
                                         post.date, (index + step, index),
                                         once=not post.evergreen))
    return sorted(out.values(), key=lambda m: m.rank)


def _pick(pool: Sequence[Message], day: date, last: Mapping[str, date], used: Counter[str],
          previous_story: str, spent: set[str]) -> Message | None:
    allowed = [m for m in pool
               if (m.text not in last or (day - last[m.text]).days >= REPEAT_DAYS)
               and not (m.once and (used[m.text] or m.story in spent))]
    if not allowed:
        return None
    fresh = [m for m in allowed if m.story != previous_story] or allowed
    return min(fresh, key=lambda m: (used[m.text], m.rank))


def make_plan(pool: Sequence[Message], campaign: Campaign, tz: ZoneInfo, start: date, days: int,
              *, now: datetime, utm: bool = True, history: Used = ()) -> Plan:
    """Fill ``days`` days from ``start`` with messages from ``pool`` (see the module's rules).

    Slots not after ``now`` are left out; ``history`` (earlier plans) counts only before
    ``start``.
    """
    begin = datetime.combine(start, time(), tz)
    last: dict[str, date] = {}
    used: Counter[str] = Counter()  # rows of earlier plans at or after start are replanned
    for when, text in sorted(history):
        if when < begin:
            last[text] = when.astimezone(tz).date()
            used[text] += 1
    earlier = set(used)
    posts: list[PlannedPost] = []
    gaps: list[Gap] = []
    story = ""
    spent: set[str] = set()  # stories of dated posts ('evergreen: false') already planned
    for offset, count in enumerate(daily_counts(campaign.goal_per_day, days)):
        day = start + timedelta(days=offset)
        times = [when for when in slot_times(day, count, tz) if when > now]
        planned = 0
        for when in times:
            message = _pick(pool, day, last, used, story, spent)
            if message is None:
                break
            link = tracked(message.page, campaign.id, f"{message.kind}-{day.isoformat()}",
                           utm=utm)
            posts.append(PlannedPost(when, message, link))
            last[message.text], story = day, message.story
            used[message.text] += 1
            if message.once:
                spent.add(message.story)
            planned += 1
        if planned < len(times):
            gaps.append(Gap(day, planned, len(times)))
    return Plan(campaign, start, days, tuple(posts), tuple(gaps), len(pool),
                _unshared(pool, posts, start, earlier))


def _unshared(pool: Sequence[Message], posts: Sequence[PlannedPost], start: date,
              before: set[str]) -> tuple[Message, ...]:
    """Posts of the last REPEAT_DAYS days that no earlier plan had and the first week lacks."""
    first_week = {p.message.page for p in posts if (p.when.date() - start).days < WARN_DAYS}
    shared = first_week | {m.page for m in pool if m.text in before}
    since = start - timedelta(days=REPEAT_DAYS)
    seen: dict[str, Message] = {}
    for m in pool:
        if m.published.date() >= since and m.page not in shared:
            seen.setdefault(m.page, m)
    return tuple(seen.values())


def _distinct(site: Site, shares: Mapping[str, Share], campaign_id: str,
              now: datetime) -> int:
    texts: set[str] = set()
    for article in campaign_articles(site, campaign_id, now):
        share = shares.get(article.url)
        if share is not None:
            texts.add(_words(share.tweet))
            texts.update(quote for quote, _, _ in share.quotes)
        texts.update(" ".join(variant.split()) for variant in article.post.tweets)
    return len(texts)


def _goal_lines(cfg: SiteConfig) -> dict[str, int]:
    """The line of each campaign's ``goal_per_day`` (or its id) in site.yaml."""
    try:
        doc = load_yaml(read_text(cfg.path), cfg.path)
    except (TextError, YamlProblem):  # it loaded a moment ago; a line is only a courtesy
        return {}
    return {c.id: doc.line("campaigns", c.id, "goal_per_day") for c in cfg.campaigns}


def cadence_warnings(site: Site, shares: Mapping[str, Share], now: datetime) -> list[Problem]:
    """A warning for each campaign that cannot reach its goal for the next WARN_DAYS days."""
    cfg = site.cfg
    short = []
    for c in cfg.campaigns:
        have = _distinct(site, shares, c.id, now)
        if have < sum(daily_counts(c.goal_per_day, WARN_DAYS)):
            short.append((c, have))
    lines = _goal_lines(cfg) if short else {}
    return [warning(cfg.path, lines.get(c.id),
                    f"campaign '{c.id}' cannot reach its goal of {c.goal_per_day:g} post"
                    f"{'s' * (c.goal_per_day != 1)} a day for the next {WARN_DAYS} days: only "
                    f"{have} distinct message{'s' * (have != 1)}; write more posts or add "
                    "'tweets:' variants") for c, have in short]
