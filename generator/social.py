"""A post's social side: the post X will show, click-to-tweet quotes, and share links.

Everything here is a pure function of the post's words and the campaign's settings. Lengths
come from :mod:`generator.tweetcount` (X's own weighting); the words are fitted to 280 by
dropping, in turn, the summary, the post's hashtags, the campaign's hashtags after the first,
and at last by cutting the words with "…" at a word (or, in Chinese or Japanese, a character)
boundary.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from .tweetcount import (
    MAX_WEIGHTED_LENGTH,
    grapheme_count,
    graphemes,
    tweet_check,
    weighted_length,
)

__all__ = [
    "BLUESKY_LIMIT", "MAX_WEIGHTED_LENGTH", "ShareLink", "Tweet", "compose_quote",
    "compose_tweet", "share_links", "share_url", "tweet_check", "utm_url", "valid_hashtag",
    "weighted_length", "x_intent",
]

BLUESKY_LIMIT = 300  # graphemes
ELLIPSIS = "…"
_SPACES = re.compile(r"[ \t\n\r\f\v\x85\u2028\u2029]+")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
# Control characters (category Cc) but the line feed, and three non-characters.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
# Beside letters, marks, digits and "_", X lets these stay inside a hashtag.
_HASHTAG_EXTRA = frozenset("_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0"
                           "\u30fb\u3003\u0f0b\u0f0c\xb7")
_QUOTES = {"“": "”", "„": "“", "«": "»", "»": "«", "「": "」", "『": "』", "‘": "’", "‹": "›",
           '"': '"', "＂": "＂"}
_KEEP_BEFORE_ELLIPSIS = frozenset("!?！？‼⁉")
_UTM_KEYS = frozenset(("utm_source", "utm_medium", "utm_campaign"))
_LABELS = {"x": "Share on X", "bluesky": "Share on Bluesky", "facebook": "Share on Facebook",
           "linkedin": "Share on LinkedIn", "mastodon": "Share on Mastodon",
           "email": "Share by email"}


@dataclass(frozen=True, slots=True)
class Tweet:
    """A post for X, fitted to 280: what its share link fills in, and what X will show."""

    text: str  # the words (title [+ summary] or hand-written), fitted
    hashtags: tuple[str, ...]  # without '#', in order, deduplicated case-insensitively
    via: str  # X handle or ""
    related: tuple[str, ...]
    url: str  # absolute page URL (with UTM params when asked)
    full: str  # what X's composer shows from the intent: text url #tags via @handle
    length: int  # weighted_length(full) <= 280 always
    handwritten_length: int | None  # the writer's own tweet, too long: its length; else None


@dataclass(frozen=True, slots=True)
class ShareLink:
    network: str  # "x" | "bluesky" | "facebook" | "linkedin" | "mastodon" | "email"
    label: str  # accessible name in English, e.g. "Share on Bluesky", "Share by email"
    href: str  # percent-encoded exactly once; not HTML-escaped (templates do that)


# --- words and hashtags --------------------------------------------------------------------


def _clean(text: str, *, lines: bool = False) -> str:
    """NFC, no control or forbidden characters, whitespace runs made single spaces.

    With ``lines`` (a writer's own tweet) line breaks stay, at most one blank line in a row.
    """
    text = unicodedata.normalize("NFC", text)
    if lines:
        rows = [_SPACES.sub(" ", row).strip()
                for row in re.split(r"\r\n|[\n\r\x85\u2028\u2029]", text)]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(rows))
    else:
        text = _SPACES.sub(" ", text)
    return _CONTROL.sub("", text).strip()


def _hashtag_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return (category[0] in "LM" and ch != "\u20e3") or category == "Nd" or ch in _HASHTAG_EXTRA


def valid_hashtag(tag: str) -> bool:
    """Whether X links ``#tag``: letters of any script (with their marks), digits and "_",
    with at least one letter. Give the tag without "#"."""
    tag = unicodedata.normalize("NFC", tag)
    return (bool(tag) and all(map(_hashtag_char, tag))
            and any(unicodedata.category(ch)[0] in "LM" for ch in tag))


def _inline_hashtags(text: str) -> set[str]:
    """The hashtags already written in ``text``, case-folded."""
    found = set()
    for m in re.finditer("[#＃]", text):
        end = m.end()
        while end < len(text) and _hashtag_char(text[end]):
            end += 1
        found.add(text[m.end():end].casefold())
    return found


def _hashtags(tags: Sequence[str], skip: set[str]) -> tuple[str, ...]:
    """Valid ``tags`` (a leading "#" allowed), NFC, first spelling of each kept, none in skip."""
    kept: dict[str, str] = {}
    for raw in tags:
        tag = unicodedata.normalize("NFC", raw.strip()).removeprefix("#").removeprefix("＃")
        if valid_hashtag(tag) and tag.casefold() not in skip:
            kept.setdefault(tag.casefold(), tag)
    return tuple(kept.values())


def _handle(handle: str) -> str:
    handle = handle.strip().removeprefix("@")
    return handle if _HANDLE.match(handle) else ""


# --- fitting -------------------------------------------------------------------------------


_UNSPACED = re.compile("[\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u2e80-\u9fff\uf900-\ufaff"
                       "\uff00-\uffef\U00020000-\U0003ffff]")  # the ranges _unspaced knows


def _unspaced(cluster: str) -> bool:
    """Whether ``cluster`` is from a script written without spaces between words."""
    cp = ord(cluster[0])
    return (0x2E80 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0xFF00 <= cp <= 0xFFEF
            or 0x20000 <= cp <= 0x3FFFF or 0x0E00 <= cp <= 0x0EFF or 0x1000 <= cp <= 0x109F
            or 0x1780 <= cp <= 0x17FF or 0x0F00 <= cp <= 0x0FFF)


def _trim(text: str) -> str:
    """``text`` without the spaces and dangling punctuation that would sit before "…"."""
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] == ELLIPSIS or (
            unicodedata.category(text[end - 1]) in ("Pd", "Ps", "Pi", "Po", "Pc")
            and text[end - 1] not in _KEEP_BEFORE_ELLIPSIS)):
        end -= 1
    return text[:end]


def _shorten(text: str, fits: Callable[[str], bool]) -> str | None:
    """The longest ``text[:k] + "…"`` that fits, cut between words, else between characters.

    Words end at spaces, or at any character in Chinese, Japanese, Thai and other scripts
    written without spaces; a grapheme cluster (an emoji, a letter and its accents) is never
    split. A cut inside a word is taken only when words would lose a third of what fits
    (one long word). None when not even one character fits.
    """
    clusters = graphemes(text)
    ends = list(accumulate(map(len, clusters)))[:-1]
    if not _UNSPACED.search(text):  # no script written without spaces: break at spaces
        between_words = [end for i, end in enumerate(ends) if clusters[i + 1][0].isspace()]
    else:
        unspaced = [_unspaced(cluster) for cluster in clusters]
        between_words = [end for i, end in enumerate(ends) if clusters[i + 1][0].isspace()
                         or unspaced[i] or unspaced[i + 1]]

    def longest(candidates: list[int]) -> str | None:
        best, low, high = None, 0, len(candidates)
        while low < high:  # lengths grow with k (near enough): binary search the last fit
            middle = (low + high) // 2
            kept = _trim(text[:candidates[middle]])
            if kept and fits(kept + ELLIPSIS):
                best, low = kept + ELLIPSIS, middle + 1
            else:
                high = middle
        return best

    by_word, by_character = longest(between_words), longest(ends)
    if by_word and by_character and len(by_word) * 3 < len(by_character) * 2:
        return by_character
    return by_word or by_character


def _full(text: str, url: str, hashtags: Sequence[str], via: str) -> str:
    """The post X's composer makes from an intent: text, link, hashtags, "via @handle"."""
    parts = (text, url, " ".join("#" + tag for tag in hashtags), f"via @{via}" if via else "")
    return " ".join(part for part in parts if part)


def _fits(post: str) -> bool:
    return weighted_length(post) <= MAX_WEIGHTED_LENGTH


def _join(title: str, summary: str) -> str:
    if not title or not summary:
        return title or summary
    if title[-1] in "。！？":
        return title + summary
    return f"{title} {summary}" if title[-1] in ".!?…:;" else f"{title} — {summary}"


def _compose(words: str, *, summary: str, wrap: tuple[str, str], campaign: tuple[str, ...],
             extra: tuple[str, ...], url: str, via: str, related: tuple[str, ...],
             own: bool) -> Tweet:
    opening, closing = wrap

    def post(text: str, tags: tuple[str, ...], handle: str = via) -> str:
        return _full(text and opening + text + closing, url, tags, handle)

    def done(text: str, tags: tuple[str, ...], handle: str, cut: bool = False) -> Tweet:
        full = post(text, tags, handle)
        return Tweet(text=text and opening + text + closing, hashtags=tags, via=handle,
                     related=related, url=url, full=full, length=weighted_length(full),
                     handwritten_length=weighted_length(post(words, tags, handle))
                     if own and cut else None)

    everything = campaign + extra
    if summary and _fits(post(_join(words, summary), everything)):
        return done(_join(words, summary), everything, via)
    fewer = [campaign + extra[:n] for n in range(len(extra), -1, -1)]
    fewer += [campaign[:n] for n in range(len(campaign) - 1, 0, -1)]
    for tags in fewer:
        if _fits(post(words, tags)):
            return done(words, tags, via)
    for tags, handle in ((campaign[:1], via), ((), via), ((), "")):
        def fits(text: str, tags: tuple[str, ...] = tags, handle: str = handle) -> bool:
            return _fits(post(text, tags, handle))

        if fits(words):  # only a giant hashtag was in the way
            return done(words, tags, handle)
        cut = _shorten(words, fits)
        if cut is not None:
            return done(cut, tags, handle, cut=True)
    if _fits(url):
        return done("", (), "")
    raise ValueError(f"the page address alone is longer than X allows: {url}")


def compose_tweet(*, title: str, url: str, summary: str = "", handwritten: str = "",
                  hashtags: Sequence[str] = (), extra_hashtags: Sequence[str] = (),
                  handle: str = "", related: Sequence[str] = ()) -> Tweet:
    """The post for X: the writer's ``tweet:`` or else the title (+ summary), fitted to 280.

    ``hashtags`` are the campaign's, ``extra_hashtags`` the post's own; invalid ones are
    dropped, and so are tags the words already carry.
    """
    own = _clean(handwritten, lines=True)
    words = own or _clean(title)
    inline = _inline_hashtags(words)
    campaign = _hashtags(hashtags, inline)
    extra = _hashtags(extra_hashtags, inline | {tag.casefold() for tag in campaign})
    return _compose(words, summary="" if own else _clean(summary), wrap=("", ""),
                    campaign=campaign, extra=extra, url=url, via=_handle(handle),
                    related=_related(related), own=bool(own))


def compose_quote(quote: str, *, url: str, handle: str = "",
                  hashtags: Sequence[str] = ()) -> Tweet:
    """A click-to-tweet post: ``quote`` in quotation marks (its own, if it has them), fitted."""
    words = _clean(quote)
    wrap = ("“", "”")
    if len(words) > 1 and _QUOTES.get(words[0]) == words[-1]:
        wrap, words = (words[0], words[-1]), words[1:-1].strip()
    return _compose(words, summary="", wrap=wrap, campaign=_hashtags(hashtags, set()),
                    extra=(), url=url, via=_handle(handle), related=(), own=False)


def _related(handles: Sequence[str]) -> tuple[str, ...]:
    kept: dict[str, str] = {}
    for raw in handles:
        if handle := _handle(raw):
            kept.setdefault(handle.casefold(), handle)
    return tuple(kept.values())


# --- links ---------------------------------------------------------------------------------


# Each byte as itself (RFC 3986's unreserved characters) or as %XX.
_PERCENT = {byte: chr(byte) if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) in "-._~")
            else f"%{byte:02X}" for byte in range(256)}


def _encode(value: str) -> str:
    """Percent-encode all but RFC 3986's unreserved characters, as UTF-8."""
    return value.encode("utf-8").decode("latin-1").translate(_PERCENT)


# A plain host, a path of RFC 3986 characters, no query or fragment: an address that
# urlsplit and urlunsplit give back as it is (a page's own, in practice).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[\w\-.~!$&'()*+,;=:@%/]*)?",
                        re.ASCII)


def utm_url(url: str, *, source: str, campaign: str, medium: str = "social") -> str:
    """``url`` with utm_source, utm_medium and utm_campaign set; its other query and its
    fragment are kept as they were."""
    ours = [f"utm_source={_encode(source)}", f"utm_medium={_encode(medium)}",
            f"utm_campaign={_encode(campaign)}"]
    if _PLAIN_URL.fullmatch(url):
        return f"{url}?{'&'.join(ours)}"
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&")
            if pair and unquote_plus(pair.partition("=")[0]) not in _UTM_KEYS]
    return urlunsplit(parts._replace(query="&".join(kept + ours)))


def share_url(page_url: str, network: str, *, campaign_id: str, utm: bool) -> str:
    """The page address to share on ``network``: with UTM parameters when ``utm``."""
    return utm_url(page_url, source=network, campaign=campaign_id) if utm else page_url


def x_intent(tweet: Tweet) -> str:
    """The X share link that fills the composer with ``tweet``."""
    params = (("text", _encode(tweet.text)), ("url", _encode(tweet.url)),
              ("hashtags", ",".join(map(_encode, tweet.hashtags))),
              ("via", _encode(tweet.via)), ("related", ",".join(map(_encode, tweet.related))))
    return "https://x.com/intent/tweet?" + "&".join(f"{k}={v}" for k, v in params if v)


def _bluesky_text(tweet: Tweet, url: str) -> str:
    """The tweet's words, the link and hashtags, fitted to Bluesky's 300 graphemes."""
    def post(text: str, tags: Sequence[str]) -> str:
        return _full(text, url, tags, "")

    def fits(text: str) -> bool:  # a cluster is at least one code point
        return len(text) <= BLUESKY_LIMIT or grapheme_count(text) <= BLUESKY_LIMIT

    for n in range(len(tweet.hashtags), -1, -1):
        if fits(post(tweet.text, tweet.hashtags[:n])):
            return post(tweet.text, tweet.hashtags[:n])
    cut = _shorten(tweet.text, lambda text: fits(post(text, ())))
    return post(cut or "", ())


def share_links(tweet: Tweet, *, networks: Sequence[str], title: str, summary: str,
                page_url: str, campaign_id: str, utm: bool,
                mastodon_page: str) -> tuple[ShareLink, ...]:
    """A share link per network, in the order given.

    The X link shares ``tweet`` as it is, so compose it with
    ``url=share_url(page_url, "x", campaign_id=…, utm=…)``; ``mastodon_page`` is the site's
    own page that asks for the reader's instance.
    """
    links = []
    for network in networks:
        if network not in _LABELS:
            raise ValueError(f"unknown network {network!r}; known: {', '.join(_LABELS)}")
        url = share_url(page_url, network, campaign_id=campaign_id, utm=utm)
        if network == "x":
            if tweet.url != url:
                raise ValueError(f"the tweet links to {tweet.url}, not {url}: compose it "
                                 "with url=share_url(page_url, 'x', …)")
            href = x_intent(tweet)
        elif network == "bluesky":
            href = "https://bsky.app/intent/compose?text=" + _encode(_bluesky_text(tweet, url))
        elif network == "facebook":
            href = "https://www.facebook.com/sharer/sharer.php?u=" + _encode(url)
        elif network == "linkedin":
            href = "https://www.linkedin.com/sharing/share-offsite/?url=" + _encode(url)
        elif network == "mastodon":
            text = _full(tweet.text, url, tweet.hashtags, "")
            href = mastodon_page + ("&" if "?" in mastodon_page else "?") + "text=" + _encode(text)
        else:
            body = "\r\n\r\n".join(part for part in (_clean(summary), url) if part)
            href = f"mailto:?subject={_encode(_clean(title))}&body={_encode(body)}"
        links.append(ShareLink(network=network, label=_LABELS[network], href=href))
    return tuple(links)
