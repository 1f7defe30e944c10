"""X's weighted length (twitter-text v3), case by case from its published rules.

Each expected number below was worked out from the v3 config (scale 100, default weight 200,
weight 100 for U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F, U+2032–U+2037; URLs 23; an emoji
sequence 2; NFC first) and checked against the official twitter-text 3.1 from npm.
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from generator.social import weighted_length
from generator.tweetcount import (
    MAX_WEIGHTED_LENGTH,
    _emoji_pattern,
    emoji_spans,
    graphemes,
    tweet_check,
    url_spans,
)

ZWJ = "\u200d"
FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # four people joined by three ZWJs: 7 code points

CASES = [
    # ASCII and Latin: one each
    ("", 0),
    ("hello", 5),
    ("Hello, world! 100% #Equity @DCPS", 32),
    ("café", 4),
    ("cafe\u0301", 4),  # NFD input: NFC makes it the 4 code points of "café"
    ("Ångström", 8),
    ("A\u030angstro\u0308m", 8),  # NFD of the above
    ("e\u0301\u0301", 2),  # only one accent composes; the second mark (U+0301) weighs 1
    ("ß Œ ŋ ǅ", 7),
    # Vietnamese: precomposed letters from U+1E00–U+1EFF are beyond U+10FF, so 2 each
    ("ế", 2),
    ("e\u0302\u0301", 2),  # NFD of ế
    ("Tiếng Việt", 12),  # T i ế n g, space, V i ệ t: ế and ệ weigh 2
    ("Học khu", 8),  # ọ is U+1ECD
    # Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, Thai, Georgian: below U+10FF
    ("Ελληνικά", 8),
    ("Привет", 6),
    ("שָׁלוֹם", 7),  # letters and points (NFC keeps the points separate)
    ("العربية", 7),
    ("فارسی", 5),
    ("हिन्दी", 6),
    ("ภาษาไทย", 7),
    ("ქართული", 7),
    # Ethiopic (U+1200–U+137F), Hangul, kana, Han: all beyond U+10FF, so 2 each
    ("ሰላም", 6),
    ("ኢትዮጵያ", 10),
    ("한국어", 6),
    ("\u1112\u1161\u11ab", 2),  # conjoining jamo compose to 한 under NFC
    ("にほんご", 8),
    ("カタカナ", 8),
    ("中文", 4),
    ("学区将于星期二举办家庭之夜。", 28),  # the ideographic full stop weighs 2 too
    ("ｶﾀｶﾅ", 8),  # halfwidth forms are beyond U+10FF as well
    # General punctuation: the light ranges are narrow
    ("\u2010\u2013\u2014\u2018\u2019\u201c\u201d", 7),  # dashes and quotes: 1 each
    ("\u2026", 2),  # … U+2026 is past U+201F
    ("\u2032\u2033\u2037", 3),  # primes: 1 each
    ("\u2038", 2),  # the caret just past U+2037
    ("\u2020\u2022", 4),  # dagger and bullet: past U+201F
    ("\u2000\u200b\u200d", 3),  # spaces and joiners up to U+200D: 1 each
    ("\u200e\u200f", 4),  # bidi marks just past U+200D
    ("\u00a0\u3000", 3),  # no-break space 1, ideographic space 2
    ("€", 2),  # U+20AC
    # Line breaks: NFC keeps CRLF as two code points
    ("a\r\nb", 4),
    ("a\nb", 3),
    ("line one\r\nline two\r\n", 20),
    # Emoji: a whole sequence weighs 2
    ("😀", 2),
    ("👍🏽", 2),  # skin tone
    (FAMILY, 2),  # ZWJ family
    ("👩🏽\u200d💻", 2),  # profession with skin tone
    ("🏃\u200d♀️", 2),  # gendered activity
    ("🏳️\u200d🌈", 2),
    ("🏴\u200d☠️", 2),
    ("🇺🇸", 2),  # flag
    ("🇺🇸🇲🇽🇪🇹", 6),
    ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 2),  # England: 7 code points
    ("1️⃣", 2),  # keycap: 1 weighs 1, but the sequence weighs 2
    ("#️⃣", 2),
    ("1\u20e3", 2),  # keycap without the variation selector
    ("❤️", 2),
    ("❤", 2),
    ("©", 1),  # in U+0000–U+10FF, and not an emoji without U+FE0F
    ("©️", 2),
    ("™️", 2),
    ("☺️", 2),
    ("😀️", 4),  # an emoji-style emoji takes no U+FE0F: that is a second character
    ("a\ufe0f", 3),
    ("🇦🇦", 4),  # no such flag: two regional indicators
    ("I ❤️ DCPS 🎉🎉", 14),
    # twitter-text 3.1 knows Emoji 11: later sequences count as their parts (plus 1 per ZWJ)
    ("🧑\u200d🤝\u200d🧑", 8),  # Emoji 12
    ("❤️\u200d🔥", 5),  # Emoji 13.1: ❤️ 2, ZWJ 1, 🔥 2
    ("🫶", 2),  # a single new emoji is a single non-light character: 2 anyway
    # URLs: 23 each, with or without a scheme, however long
    ("https://dcps.dc.gov", 23),
    ("dcps.dc.gov", 23),
    ("example.org/path", 23),
    ("http://example.com/" + "a" * 200, 23),
    ("Read more: https://example.com/family-night?lang=es#top", 34),
    ("www.example.co.uk", 23),
    ("t.co", 23),
    ("example.school", 23),
    ("example.music", 13),  # .music postdates twitter-text's TLD list: not a link there
    ("example.invalid", 15),  # not a real TLD
    ("localhost:8000/page", 19),
    ("http://localhost:8000/page", 26),
    ("https://例え.jp", 23),
    ("https://example.com/path.", 24),  # the final period is not part of the link
    ("https://example.com/path, and more", 33),
    ("(see example.org)", 29),  # parentheses around are not part of it
    ("https://en.wikipedia.org/wiki/Primer_(film)", 23),  # balanced ones inside are
    ("“example.org”", 25),
    ("example.org…", 25),
    ("see:example.org", 27),
    ("user@example.com", 16),  # an e-mail address: a name right after "@" is no link
    ("$example.com", 12),
    ("-example.com", 12),  # a name right after "-", "_", "." or "/" is no link
    ("詳しくはexample.com/infoへ", 33),  # Japanese runs straight into the link
    ("http://example.com" + "/a" * 2100, 4218),  # over twitter-text's 4096: no link
    ("https://t.co/" + "a" * 41, 54),  # t.co slugs are at most 40
    ("a.com b.org c.net", 71),
    ("e.g. i.e.", 9),
    ("Mr.Smith", 8),
    ("school.Today", 23),  # .today is a TLD, and case does not matter
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_weighted_length_follows_twitter_text_v3(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


@pytest.mark.parametrize("text", ["Tiếng Việt có dấu", "Ångström café naïve", "한국어 텍스트",
                                  "क़ुरान", "ελληνικά ΐ"])
def test_every_normal_form_of_canonically_equal_text_counts_the_same(text: str) -> None:
    lengths = {weighted_length(unicodedata.normalize(form, text)) for form in ("NFC", "NFD")}
    assert len(lengths) == 1


def test_the_limit_is_280_weighted() -> None:
    assert MAX_WEIGHTED_LENGTH == 280
    assert tweet_check("a" * 280) == (280, True)
    assert tweet_check("a" * 281) == (281, False)
    assert tweet_check("中" * 140) == (280, True)
    assert tweet_check("中" * 141) == (282, False)
    assert tweet_check("😀" * 140) == (280, True)
    assert tweet_check("https://example.com/" + "x" * 500) == (23, True)


def test_tweet_check_rejects_empty_posts_and_forbidden_characters() -> None:
    assert tweet_check("") == (0, False)
    assert tweet_check("ok\ufeff") == (4, False)  # a byte-order mark inside: X refuses
    assert tweet_check("ok\ufffe") == (4, False)
    assert tweet_check(" ") == (1, True)  # twitter-text accepts it; X's own form may not


def test_url_spans_mark_what_counts_as_a_link() -> None:
    text = "Visit dcps.dc.gov/page, or https://example.org/a_(b). Not e.g. this."
    assert [text[a:b] for a, b in url_spans(text)] == [
        "dcps.dc.gov/page", "https://example.org/a_(b)"]
    cjk = "请访问example.com了解详情"
    assert [cjk[a:b] for a, b in url_spans(cjk)] == ["example.com"]


def test_emoji_spans_cover_whole_sequences() -> None:
    text = f"a{FAMILY}b👍🏽c🇪🇹d1️⃣"
    assert [text[a:b] for a, b in emoji_spans(text)] == [FAMILY, "👍🏽", "🇪🇹", "1️⃣"]


@pytest.mark.parametrize(("text", "clusters"), [
    ("abc", ["a", "b", "c"]),
    ("cafe\u0301", ["c", "a", "f", "e\u0301"]),
    ("a\r\nb", ["a", "\r\n", "b"]),
    (f"x{FAMILY}y", ["x", FAMILY, "y"]),
    ("👍🏽🇺🇸🇪🇹1️⃣", ["👍🏽", "🇺🇸", "🇪🇹", "1️⃣"]),
    ("🇺🇸🇪", ["🇺🇸", "🇪"]),
    ("हिन्दी", ["हि", "न्दी"]),  # a conjunct stays whole
    ("한국", ["한", "국"]),
    ("\u1112\u1161\u11ab", ["\u1112\u1161\u11ab"]),  # conjoining jamo: one syllable
    ("ที่นี่", ["ที่", "นี่"]),  # Thai tone marks stay on their consonant
    ("\u200d😀", ["\u200d", "😀"]),  # a lone ZWJ joins nothing before it
])
def test_graphemes_keep_user_perceived_characters_whole(text: str, clusters: list[str]) -> None:
    assert list(graphemes(text)) == clusters


def test_the_quick_emoji_check_never_skips_a_sequence() -> None:
    """emoji_spans skips text without a joiner, VS16, keycap, tone, flag or tag character;
    the full pattern must agree on random mixes of every kind of character."""
    pieces = ["a", " ", "#", "1", "©", "‼", "\u2764", "\ufe0f", "\u200d", "\u20e3", "👍",
              "🏽", "👨", "👩", "👧", "🇺", "🇸", "🏴", "\U000e0067", "\U000e007f", "🏳", "🌈",
              "\u2640", "\u2695"]
    rng = random.Random(3)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        expected = tuple(m.span() for m in _emoji_pattern().finditer(text))
        assert emoji_spans(text) == expected, text
