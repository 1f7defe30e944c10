"""``content/site.yaml``: loaded once, validated completely, frozen.

Each bad key gives one message naming the key, what was expected and what was found;
unknown keys get "did you mean …?". All problems are reported together.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import BuildError, Problem
from .social import valid_hashtag
from .source import TextError, YamlDoc, YamlProblem, describe, load_yaml, read_text

CONFIG_NAME = "site.yaml"
NETWORKS: tuple[str, ...] = ("x", "bluesky", "facebook", "linkedin", "mastodon", "email")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A social or partner feed to embed, from ``feeds:``."""

    id: str
    title: str
    url: str  # http(s) URL, or a path relative to the content folder
    limit: int = 5
    link: str = ""  # the account or site the feed belongs to (optional)


@dataclass(frozen=True, slots=True)
class Campaign:
    """A team or campaign, from ``campaigns:``."""

    id: str
    name: str
    description: str = ""
    handle: str = ""  # X handle, without @
    bluesky: str = ""
    mastodon: str = ""  # @user@instance
    hashtags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    color: str = "#0b5394"
    goal_per_day: float = 1.0
    feeds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShareConfig:
    networks: tuple[str, ...] = NETWORKS
    utm: bool = True


@dataclass(frozen=True, slots=True)
class Localized:
    """``translations: <lang>:`` in site.yaml: the site's and campaigns' words in a language."""

    lang: str
    title: str = ""
    description: str = ""
    campaigns: tuple[tuple[str, str, str], ...] = ()  # (campaign id, name, description)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Everything in site.yaml, validated. ``content_dir`` is where it was found."""

    content_dir: Path
    title: str
    base_url: str
    description: str = ""
    language: str = "en"
    languages: tuple[str, ...] = ()  # further languages the site publishes in
    timezone: str = "America/New_York"
    theme: str = "default"
    posts_per_page: int = 10
    share: ShareConfig = field(default_factory=ShareConfig)
    campaigns: tuple[Campaign, ...] = ()
    feeds: tuple[FeedSource, ...] = ()
    translations: tuple[Localized, ...] = ()

    def localized(self, lang: str) -> SiteConfig:
        """This config with the site's and campaigns' words in ``lang``, where translated."""
        words = next((t for t in self.translations if t.lang == lang), None)
        if words is None:
            return self
        names = {cid: (name, text) for cid, name, text in words.campaigns}
        return replace(
            self, title=words.title or self.title,
            description=words.description or self.description,
            campaigns=tuple(replace(c, name=names[c.id][0] or c.name,
                                    description=names[c.id][1] or c.description)
                            if c.id in names else c for c in self.campaigns))

    @property
    def path(self) -> Path:
        return self.content_dir / CONFIG_NAME

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> PurePosixPath:
        """The path part of ``base_url`` (``/equity-sel/`` on a GitHub project site)."""
        return PurePosixPath(urlsplit(self.base_url).path or "/")

    @property
    def all_languages(self) -> tuple[str, ...]:
        return (self.language, *self.languages)

    def campaign(self, campaign_id: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id), None)


T = TypeVar("T")


def unknown_key_message(key: object, known: tuple[str, ...], where: str = "",
                        what: str = "key") -> str:
    """``unknown key 'x'; did you mean 'y'?``, or the choices when none is close."""
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean '{close[0]}'?"
    elif known:
        hint = f"; use one of: {', '.join(known)}"
    else:
        hint = f"; site.yaml defines no {what}s yet"
    return f"unknown {what} '{key}'{where}{hint}"


class _Reader:
    """Reads typed values out of one YAML mapping, collecting a Problem per bad key."""

    def __init__(self, doc: YamlDoc, path: Path, problems: list[Problem]) -> None:
        self.doc, self.path, self.problems = doc, path, problems

    def fail(self, keys: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(self.path, self.doc.line(*keys), message))

    def mapping(self, keys: tuple[str | int, ...], value: Any, allowed: tuple[str, ...],
                label: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            what = f"'{label}'" if label else CONFIG_NAME
            self.fail(keys, f"{what} must be keys like 'name: value' (got {describe(value)})")
            return {}
        where = f" in '{label}'" if label else ""
        for key in value:
            if key not in allowed:
                self.fail((*keys, key), unknown_key_message(key, allowed, where))
        return value

    def entries(self, keys: tuple[str | int, ...], value: Any) -> dict[Any, Any]:
        """A mapping of ids to entries, like ``campaigns:`` (any key allowed)."""
        if value is None or isinstance(value, dict):
            return value or {}
        self.fail(keys, f"'{keys[-1]}' must be a list of ids with keys under each "
                        f"(got {describe(value)})")
        return {}

    def get(self, keys: tuple[str | int, ...], value: Any, default: T,
            check: Callable[[Any], T | None], expected: str, required: bool = False,
            blank: str = "") -> T:
        """The checked value; ``blank`` is the message when the key is there but empty."""
        name = str(keys[-1])
        if value is None:
            if required:
                self.fail(keys, f"'{name}' is required: {expected}")
            elif blank and keys in self.doc.lines:
                self.fail(keys, blank)
            return default
        result = check(value)
        if result is None:
            self.fail(keys, f"'{name}' must be {expected} (got {describe(value)})")
            return default
        return result

    def strings(self, keys: tuple[str | int, ...], value: Any,
                item: Callable[[Any], str | None], expected: str, blank: str = ""
                ) -> tuple[str, ...]:
        """A list of strings (or one string), with a message on the line of each bad item."""
        name = str(keys[-1])
        if value is None:
            if blank and keys in self.doc.lines:
                self.fail(keys, blank)
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.fail(keys, f"'{name}' must be {expected} (got {describe(value)})")
            return ()
        out = []
        for index, raw in enumerate(items):
            checked = item(raw)
            if checked is None:
                where = keys if isinstance(value, str) else (*keys, index)
                self.fail(where, f"'{name}' must be {expected} (got {describe(raw)})")
            else:
                out.append(checked)
        return tuple(out)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _matching(pattern: re.Pattern[str], strip: str = "") -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        text = _text(value)
        if text is None:
            return None
        text = text.lstrip(strip)
        return text if pattern.match(text) else None
    return check


def _hashtag(value: Any) -> str | None:
    """A hashtag as X accepts it (the rule the share links apply), without its '#'."""
    text = _text(value)
    tag = text.lstrip("#") if text else ""
    return tag if valid_hashtag(tag) else None


def _int_range(low: int, high: int) -> Callable[[Any], int | None]:
    def check(value: Any) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        return None
    return check


def _goal(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 48:
        return float(value)
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _base_url(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return None
    return text if text.endswith("/") else text + "/"


def _timezone(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return text


def _feed_url(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return text
    if parts.scheme or text.startswith("/") or ".." in PurePosixPath(text).parts:
        return None
    return text


_TOP = ("title", "description", "base_url", "language", "languages", "timezone", "theme",
        "posts_per_page", "share", "campaigns", "feeds", "translations")
_LOCALIZED = ("title", "description", "campaigns")
_LOCALIZED_CAMPAIGN = ("name", "description")
_SHARE = ("networks", "utm")
_CAMPAIGN = ("name", "description", "handle", "bluesky", "mastodon", "hashtags", "related",
             "color", "goal_per_day", "feeds")
_FEED = ("title", "url", "limit", "link")

_HANDLE_EXPECTED = "an X handle: letters, digits or _ , at most 15, without @"
_TAGS_EXPECTED = "a list of hashtags without '#': letters, digits and _, not only digits"
_TAGS_BLANK = ("'hashtags' is empty; write hashtags without '#' (a '#' starts a comment), "
               "like hashtags: [DCPSEquity, EdEquity]")
_COLOR_BLANK = ("'color' is empty; put a colour in quotes, like color: \"#0b5394\" "
                "(without quotes, '#' starts a comment)")


def _campaign(r: _Reader, cid: Any, raw: Any) -> Campaign | None:
    keys: tuple[str | int, ...] = ("campaigns", cid)
    if not isinstance(cid, str) or not _ID.match(cid):
        r.fail(keys, f"campaign id {describe(cid)} must be lower-case letters, digits and "
                     "dashes (it is used in URLs and in posts' 'campaign:')")
        return None
    data = r.mapping(keys, raw, _CAMPAIGN, f"campaigns: {cid}")
    return Campaign(
        id=cid,
        name=r.get((*keys, "name"), data.get("name"), cid, _text, "the team's name",
                   required=True),
        description=r.get((*keys, "description"), data.get("description"), "", _text, "text"),
        handle=r.get((*keys, "handle"), data.get("handle"), "", _matching(_HANDLE, "@"),
                     _HANDLE_EXPECTED),
        bluesky=r.get((*keys, "bluesky"), data.get("bluesky"), "",
                      _matching(re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"), "@"),
                      "a Bluesky handle like team.bsky.social"),
        mastodon=r.get((*keys, "mastodon"), data.get("mastodon"), "",
                       _matching(re.compile(r"^@?[A-Za-z0-9_]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")),
                       "a Mastodon address like @team@district.social"),
        hashtags=r.strings((*keys, "hashtags"), data.get("hashtags"),
                           _hashtag, _TAGS_EXPECTED, blank=_TAGS_BLANK),
        related=r.strings((*keys, "related"), data.get("related"), _matching(_HANDLE, "@"),
                          "a list of X handles without @"),
        color=r.get((*keys, "color"), data.get("color"), "#0b5394", _matching(_COLOR),
                    'a colour like "#0b5394" (in quotes)', blank=_COLOR_BLANK),
        goal_per_day=r.get((*keys, "goal_per_day"), data.get("goal_per_day"), 1.0, _goal,
                           "a number of posts per day, like 1 or 2"),
        feeds=r.strings((*keys, "feeds"), data.get("feeds"), _text,
                        "a list of feed ids from 'feeds:'"),
    )


def _feed(r: _Reader, fid: Any, raw: Any) -> FeedSource | None:
    keys: tuple[str | int, ...] = ("feeds", fid)
    if not isinstance(fid, str) or not _ID.match(fid):
        r.fail(keys, f"feed id {describe(fid)} must be lower-case letters, digits and dashes")
        return None
    data = r.mapping(keys, raw, _FEED, f"feeds: {fid}")
    return FeedSource(
        id=fid,
        title=r.get((*keys, "title"), data.get("title"), fid, _text, "the feed's name",
                    required=True),
        url=r.get((*keys, "url"), data.get("url"), "", _feed_url,
                  "an http(s) address, or a file path under content/ like feeds/news.xml",
                  required=True),
        limit=r.get((*keys, "limit"), data.get("limit"), 5, _int_range(1, 50),
                    "a whole number from 1 to 50"),
        link=r.get((*keys, "link"), data.get("link"), "", _base_url,
                   "the http(s) address of the account or site"),
    )


def parse_config(doc: YamlDoc, path: Path, base_url: str | None = None) -> SiteConfig:
    """Validate a loaded site.yaml; raise BuildError listing every bad key."""
    problems: list[Problem] = []
    r = _Reader(doc, path, problems)
    top = r.mapping((), doc.data, _TOP, "")
    if doc.data is not None and not isinstance(doc.data, dict):
        raise BuildError(problems)
    share = r.mapping(("share",), top.get("share"), _SHARE, "share")
    networks = NETWORKS
    if share.get("networks") is not None:
        networks = r.strings(("share", "networks"), share.get("networks"),
                             lambda v: v if v in NETWORKS else None,
                             "a list of networks from: " + ", ".join(NETWORKS))
    campaigns_raw = r.entries(("campaigns",), top.get("campaigns"))
    feeds_raw = r.entries(("feeds",), top.get("feeds"))
    campaigns = [c for cid, raw in campaigns_raw.items() if (c := _campaign(r, cid, raw))]
    feeds = [f for fid, raw in feeds_raw.items() if (f := _feed(r, fid, raw))]
    feed_ids = {f.id for f in feeds}
    for c in campaigns:
        for i, fid in enumerate(c.feeds):
            if fid not in feed_ids:
                r.fail(("campaigns", c.id, "feeds", i), unknown_key_message(
                    fid, tuple(sorted(feed_ids)), " in this campaign's 'feeds'", what="feed"))
    language = r.get(("language",), top.get("language"), "en", _matching(_LANG),
                     "a language tag like en or es-US")
    languages = r.strings(("languages",), top.get("languages"), _matching(_LANG),
                          "a list of language tags like [es, am, zh]")
    cfg = SiteConfig(
        content_dir=path.parent,
        title=r.get(("title",), top.get("title"), "Untitled", _text, "the site's name",
                    required=True),
        description=r.get(("description",), top.get("description"), "", _text, "text"),
        base_url=base_url or r.get(("base_url",), top.get("base_url"), "http://localhost:8000/",
                                   _base_url, "an absolute http(s) address like "
                                   "https://example.github.io/site/", required=True),
        language=language,
        languages=tuple(tag for tag in dict.fromkeys(languages) if tag != language),
        timezone=r.get(("timezone",), top.get("timezone"), "America/New_York", _timezone,
                       "a time zone name like America/New_York"),
        theme=r.get(("theme",), top.get("theme"), "default",
                    _matching(re.compile(r"^[A-Za-z0-9_.-]+$")), "a folder name under themes/"),
        posts_per_page=r.get(("posts_per_page",), top.get("posts_per_page"), 10,
                             _int_range(1, 100), "a whole number from 1 to 100"),
        share=ShareConfig(
            networks=networks,
            utm=r.get(("share", "utm"), share.get("utm"), True, _bool, "true or false"),
        ),
        campaigns=tuple(campaigns),
        feeds=tuple(feeds),
    )
    cfg = replace(cfg, translations=_translations(r, top.get("translations"), cfg))
    if not campaigns_raw:
        r.fail(("campaigns",), "'campaigns' is required: at least one team or campaign, "
                               "each with a 'name'")
    _check_theme(r, cfg)
    if problems:
        raise BuildError(sorted(problems, key=lambda p: p.line or 0))
    return cfg


def _translations(r: _Reader, raw: Any, cfg: SiteConfig) -> tuple[Localized, ...]:
    """``translations:``: per language, the site's title and description and the campaigns'
    names and descriptions, for pages in that language."""
    found = []
    for lang, entry in r.entries(("translations",), raw).items():
        keys: tuple[str | int, ...] = ("translations", lang)
        if lang not in cfg.languages:
            r.fail(keys, f"'translations' has {describe(lang)}, which is not in 'languages'; "
                         "add it there, or remove these translations")
            continue
        data = r.mapping(keys, entry, _LOCALIZED, f"translations: {lang}")
        campaigns = []
        for cid, words in r.entries((*keys, "campaigns"), data.get("campaigns")).items():
            where: tuple[str | int, ...] = (*keys, "campaigns", cid)
            if cfg.campaign(str(cid)) is None:
                r.fail(where, unknown_key_message(cid, tuple(c.id for c in cfg.campaigns),
                                                  what="campaign"))
                continue
            text = r.mapping(where, words, _LOCALIZED_CAMPAIGN, f"campaigns: {cid}")
            campaigns.append((str(cid),
                              r.get((*where, "name"), text.get("name"), "", _text, "text"),
                              r.get((*where, "description"), text.get("description"), "",
                                    _text, "text")))
        found.append(Localized(
            lang=str(lang),
            title=r.get((*keys, "title"), data.get("title"), "", _text, "text"),
            description=r.get((*keys, "description"), data.get("description"), "", _text,
                              "text"),
            campaigns=tuple(campaigns)))
    return tuple(found)


def theme_roots(content_dir: Path) -> tuple[Path, ...]:
    """Where a theme named in site.yaml may live: ``themes/`` next to content/, or inside it."""
    return (content_dir.parent / "themes", content_dir / "themes")


def _check_theme(r: _Reader, cfg: SiteConfig) -> None:
    if cfg.theme == "default" or any((root / cfg.theme).is_dir()
                                     for root in theme_roots(cfg.content_dir)):
        return
    r.fail(("theme",), f"'theme' is {describe(cfg.theme)}, but there is no themes/{cfg.theme}/ "
                       f"folder next to {cfg.content_dir.name}/ or inside it; add the theme "
                       "there, or use theme: default")


def load_config(content_dir: Path, base_url: str | None = None) -> SiteConfig:
    """Read and validate ``content_dir/site.yaml``."""
    path = content_dir / CONFIG_NAME
    if not path.is_file():
        raise BuildError([Problem(path, None, f"no {CONFIG_NAME} here; is --content the folder "
                                              "with your posts/ and site.yaml?")])
    if base_url is not None and _base_url(base_url) is None:
        raise BuildError([Problem(None, None, "--base-url must be an absolute http(s) address "
                                              "like https://example.github.io/site/ "
                                              f"(got {describe(base_url)})")])
    try:
        doc = load_yaml(read_text(path), path)
    except TextError as exc:
        raise BuildError([Problem(path, exc.line, str(exc))]) from exc
    except YamlProblem as exc:
        raise BuildError([exc.problem]) from exc
    return parse_config(doc, path, _base_url(base_url) if base_url else None)
