"""Tweets fitted to X's 280, click-to-tweet quotes, UTM links, share links and share.js."""

from __future__ import annotations

import random
import shutil
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from generator.social import (
    BLUESKY_LIMIT,
    Tweet,
    compose_quote,
    compose_tweet,
    share_links,
    share_url,
    utm_url,
    valid_hashtag,
    weighted_length,
    x_intent,
)
from generator.tweetcount import graphemes
from tests.support import repo_root
from tests.support.browser import chromium, new_page
from tests.support.httpserver import serve_directory

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

PAGE = "https://example.org/equity-sel/posts/2024-05-01-family-night/"
X_URL = share_url(PAGE, "x", campaign_id="equity", utm=True)
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
NETWORKS = ("x", "bluesky", "facebook", "linkedin", "mastodon", "email")


def long_words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def tweet(**kwargs: object) -> Tweet:
    args: dict[str, object] = {"title": "Family night", "url": X_URL}
    args.update(kwargs)
    return compose_tweet(**args)  # type: ignore[arg-type]


def assert_sound(t: Tweet) -> None:
    """What every Tweet promises: full is what X shows, and it fits."""
    parts = [t.text, t.url, " ".join("#" + h for h in t.hashtags), f"via @{t.via}" * bool(t.via)]
    assert t.full == " ".join(p for p in parts if p)
    assert t.length == weighted_length(t.full) <= 280


# --- hashtags ------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["Equity", "DCPSEquity2024", "a_b", "教育", "Équité", "शिक्षा",
                                 "ሰላም", "زبان\u200cفارسی", "ＡＢＣ", "Cafe\u0301"])
def test_valid_hashtags_are_letters_of_any_script_digits_and_underscore(tag: str) -> None:
    assert valid_hashtag(tag)


@pytest.mark.parametrize("tag", ["", "2024", "٢٠٢٤", "#Equity", "a-b", "a b", "tag!", "_", "_1",
                                 "a.b", "😀"])
def test_invalid_hashtags(tag: str) -> None:
    assert not valid_hashtag(tag)


def test_hashtags_campaign_first_then_posts_deduplicated_and_invalid_dropped() -> None:
    t = tweet(hashtags=["DCPSEquity", "#Equity", "equity", "2024"],
              extra_hashtags=["FamilyNight", "EQUITY", "bad-tag", "dcpsequity", "SEL"])
    assert t.hashtags == ("DCPSEquity", "Equity", "FamilyNight", "SEL")  # CamelCase kept
    assert_sound(t)


def test_hashtags_the_words_already_carry_are_not_repeated() -> None:
    t = tweet(title="Join #FamilyNight at Lincoln", hashtags=["familynight", "Equity"])
    assert t.hashtags == ("Equity",)
    assert t.full.count("#FamilyNight") == 1


# --- composition ---------------------------------------------------------------------------


def test_title_summary_link_hashtags_and_via_in_x_order() -> None:
    t = tweet(summary="Dinner, child care and interpreters.", hashtags=["Equity"],
              extra_hashtags=["FamilyNight"], handle="@DCPSequity", related=["DCPSchools"])
    assert t.text == "Family night — Dinner, child care and interpreters."
    assert t.full == (f"Family night — Dinner, child care and interpreters. {X_URL} "
                      "#Equity #FamilyNight via @DCPSequity")
    assert t.length == 51 + 1 + 23 + 21 + 16  # the link counts 23, whatever its length
    assert (t.via, t.related, t.url, t.handwritten_length) == (
        "DCPSequity", ("DCPSchools",), X_URL, None)


def test_a_title_ending_a_sentence_runs_on_into_the_summary() -> None:
    assert tweet(title="Welcome back!", summary="School starts Monday.").text == (
        "Welcome back! School starts Monday.")
    assert tweet(title="新学年开始。", summary="欢迎回来").text == "新学年开始。欢迎回来"


def test_whitespace_is_normalised_and_text_is_nfc() -> None:
    t = tweet(title="  Family\nnight\t\tat  Lincoln\r\n", summary="Cafe\u0301\u00a0night\ufeff")
    assert t.text == "Family night at Lincoln — Café\u00a0night"
    assert unicodedata.is_normalized("NFC", t.full)


# With X_URL (23) and one space before it, and " #Campaign1" (11), " #PostTagA" (10) and so on.
ROOM = 280 - 24


def test_summary_is_dropped_first() -> None:
    title = "a" * (ROOM - 11 - 10)  # room for the title and both hashtags, not the summary
    t = tweet(title=title, summary="b", hashtags=["Campaign1"], extra_hashtags=["PostTagA"])
    assert (t.text, t.hashtags) == (title, ("Campaign1", "PostTagA"))
    assert t.length == 280
    title = "a" * (ROOM - 11 - 10 - 4)  # " — b" fits exactly
    t = tweet(title=title, summary="b", hashtags=["Campaign1"], extra_hashtags=["PostTagA"])
    assert (t.text, t.length) == (title + " — b", 280)


@pytest.mark.parametrize(("title_length", "kept"), [
    (ROOM - 22 - 20, ("Campaign1", "Campaign2", "PostTagA", "PostTagB")),
    (ROOM - 22 - 10, ("Campaign1", "Campaign2", "PostTagA")),  # post tags go from the end
    (ROOM - 22 - 9, ("Campaign1", "Campaign2")),
    (ROOM - 22, ("Campaign1", "Campaign2")),
    (ROOM - 21, ("Campaign1",)),  # then the campaign's after the first
    (ROOM - 11, ("Campaign1",)),
])
def test_hashtags_are_dropped_post_ones_first_then_campaign_ones_after_the_first(
    title_length: int, kept: tuple[str, ...]
) -> None:
    title = "a" * title_length
    t = tweet(title=title, hashtags=["Campaign1", "Campaign2"],
              extra_hashtags=["PostTagA", "PostTagB"])
    assert (t.text, t.hashtags) == (title, kept)
    assert_sound(t)


def test_then_the_title_is_cut_keeping_the_first_campaign_hashtag() -> None:
    t = tweet(title="a" * (ROOM - 10), hashtags=["Campaign1", "Campaign2"])
    assert (t.text, t.hashtags) == ("a" * (ROOM - 11 - 2) + "…", ("Campaign1",))  # … weighs 2
    assert t.length == 280


def test_a_long_title_is_cut_at_a_word_with_an_ellipsis_keeping_the_first_hashtag() -> None:
    title = long_words(60)
    t = tweet(title=title, summary="Never seen", hashtags=["Equity", "SEL"],
              extra_hashtags=["Post"], handle="DCPSequity")
    assert_sound(t)
    assert t.hashtags == ("Equity",) and t.via == "DCPSequity"
    assert t.text.endswith("…") and title.startswith(t.text[:-1])
    assert title[len(t.text) - 1] == " "  # cut before a space, never inside a word
    # the longest cut that fits: one more word would not
    one_more = title[: title.index(" ", len(t.text))] + "…"
    assert weighted_length(t.full.replace(t.text, one_more, 1)) > 280


def test_cutting_drops_dangling_punctuation_before_the_ellipsis() -> None:
    title = ", ".join(f"item{i}" for i in range(60))
    t = tweet(title=title)
    assert t.text.endswith("…") and not t.text.endswith(",…")
    assert_sound(t)


def test_chinese_and_japanese_are_cut_between_characters() -> None:
    title = "学区将于星期二在林肯小学举办家庭之夜" * 10
    t = tweet(title=title, hashtags=["教育"], handle="DCPSequity")
    assert_sound(t)
    assert t.length in (279, 280)  # every character weighs 2, so the cut lands within 1
    assert t.text.endswith("…") and title.startswith(t.text[:-1])
    ja = tweet(title="リンカーン小学校でファミリーナイトを開催します" * 10)
    assert_sound(ja)
    assert ja.length in (279, 280)


def test_a_cut_never_splits_an_emoji_or_a_letter_from_its_accent() -> None:
    t = tweet(title=FAMILY * 200)
    assert_sound(t)
    assert t.text[:-1] == FAMILY * (len(t.text) // len(FAMILY))
    accents = tweet(title="e\u0301\u0302" * 300)  # two marks: only one composes under NFC
    assert_sound(accents)
    assert all(len(g) == 2 for g in graphemes(accents.text[:-1]))


def test_one_long_word_is_cut_between_characters() -> None:
    title = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz" * 6
    t = tweet(title=title)
    assert_sound(t)
    assert t.length == 280 and title.startswith(t.text[:-1])


def test_a_short_word_before_a_very_long_one_does_not_leave_just_that_word() -> None:
    title = "A " + "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz" * 6
    t = tweet(title=title)
    assert t.length == 280 and title.startswith(t.text[:-1])


def test_handwritten_tweet_replaces_title_and_summary_and_keeps_its_lines() -> None:
    t = tweet(summary="Not used", handwritten="Families, join us!\r\n\r\n\r\nDinner at 6.  ",
              hashtags=["Equity"])
    assert t.text == "Families, join us!\n\nDinner at 6."
    assert t.handwritten_length is None
    assert_sound(t)


def test_a_too_long_handwritten_tweet_is_cut_and_its_length_reported() -> None:
    own = long_words(50)
    t = tweet(handwritten=own, hashtags=["Equity", "SEL"], handle="DCPSequity")
    assert_sound(t)
    assert t.text.endswith("…") and own.startswith(t.text[:-1])
    expected = weighted_length(f"{own} {X_URL} #Equity via @DCPSequity")
    assert t.handwritten_length == expected > 280


def test_hashtags_and_via_go_before_nothing_fits() -> None:
    huge = "A" + "b" * 260
    t = tweet(title="Family night", hashtags=[huge], handle="DCPSequity")
    assert_sound(t)
    assert t.hashtags == () and t.text == "Family night"


def test_handles_lose_their_at_sign_and_bad_ones_are_dropped() -> None:
    t = tweet(handle=" @DCPS_equity ", related=["@DCPSchools", "dcpschools", "not a handle", "X"])
    assert (t.via, t.related) == ("DCPS_equity", ("DCPSchools", "X"))


def test_random_titles_always_fit() -> None:
    rng = random.Random(2024)
    pieces = ["word", "Équité", "教育", "ሰላም", "😀", FAMILY, "🇪🇹", "dcps.dc.gov", "…", "—",
              "#Tag", "\n", "  ", "https://example.org/a", "é", "中文字", "1️⃣"]
    for _ in range(150):
        title = "".join(rng.choice(pieces) + rng.choice(["", " "])
                        for _ in range(rng.randrange(200)))
        t = tweet(title=title, summary=rng.choice(["", "A summary."]), hashtags=["Equity", "SEL"],
                  extra_hashtags=["Post"], handle="DCPSequity")
        assert_sound(t)


def test_quote_is_wrapped_in_quotation_marks_and_fitted_inside_them() -> None:
    q = compose_quote("Every child deserves to feel safe.", url=X_URL, handle="DCPSequity",
                      hashtags=["SEL", "Equity"])
    assert q.text == "“Every child deserves to feel safe.”"
    assert q.full == f"“Every child deserves to feel safe.” {X_URL} #SEL #Equity via @DCPSequity"
    long_quote = compose_quote(long_words(80), url=X_URL, hashtags=["SEL", "Equity"])
    assert_sound(long_quote)
    assert long_quote.text.startswith("“word0 ") and long_quote.text.endswith("…”")
    assert long_quote.hashtags == ("SEL",)


def test_a_quote_that_has_its_own_marks_keeps_them() -> None:
    assert compose_quote("« Chaque enfant compte »", url=X_URL).text == "«Chaque enfant compte»"
    assert compose_quote("「すべての子どもに」", url=X_URL).text == "「すべての子どもに」"


# --- UTM -----------------------------------------------------------------------------------


def test_utm_url_adds_the_three_parameters() -> None:
    assert utm_url(PAGE, source="x", campaign="equity") == (
        PAGE + "?utm_source=x&utm_medium=social&utm_campaign=equity")


def test_utm_url_keeps_the_query_and_fragment_and_replaces_old_utm() -> None:
    url = "https://example.org/p/?lang=es&q=a+b%26c&utm_source=old&utm_campaign=old#top"
    assert utm_url(url, source="bluesky", campaign="family night", medium="share") == (
        "https://example.org/p/?lang=es&q=a+b%26c&utm_source=bluesky&utm_medium=share"
        "&utm_campaign=family%20night#top")


# --- share links ---------------------------------------------------------------------------


def links_for(t: Tweet, *, title: str = "Family night", summary: str = "Dinner for all.",
              utm: bool = True, page: str = PAGE) -> dict[str, str]:
    found = share_links(t, networks=NETWORKS, title=title, summary=summary, page_url=page,
                        campaign_id="equity", utm=utm, mastodon_page="/equity-sel/share/mastodon/")
    assert [link.network for link in found] == list(NETWORKS)
    return {link.network: link.href for link in found}


def query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query, keep_blank_values=True, strict_parsing=True)


def test_share_links_follow_the_order_asked_with_accessible_labels() -> None:
    t = tweet()
    found = share_links(t, networks=("email", "x"), title="T", summary="", page_url=PAGE,
                        campaign_id="equity", utm=True, mastodon_page="/m/")
    assert [(link.network, link.label) for link in found] == [
        ("email", "Share by email"), ("x", "Share on X")]


def test_x_link_carries_the_tweet_exactly() -> None:
    t = tweet(summary="Dinner & child care: 100% free", hashtags=["Equity"],
              extra_hashtags=["FamilyNight"], handle="DCPSequity", related=["DCPSchools", "X"])
    href = links_for(t)["x"]
    assert href.startswith("https://x.com/intent/tweet?text=")
    assert "&hashtags=Equity,FamilyNight&via=DCPSequity&related=DCPSchools,X" in href
    assert query(href) == {"text": [t.text], "url": [X_URL], "hashtags": ["Equity,FamilyNight"],
                           "via": ["DCPSequity"], "related": ["DCPSchools,X"]}
    assert href == x_intent(t)


def test_every_network_gets_its_own_utm_source() -> None:
    links = links_for(tweet(hashtags=["Equity"]))
    inner = {
        "x": query(links["x"])["url"][0],
        "facebook": query(links["facebook"])["u"][0],
        "linkedin": query(links["linkedin"])["url"][0],
        "bluesky": query(links["bluesky"])["text"][0].split(" ")[-2],
        "mastodon": query(links["mastodon"])["text"][0].split(" ")[-2],
        "email": query(links["email"])["body"][0].split("\r\n")[-1],
    }
    for network, url in inner.items():
        assert url == f"{PAGE}?utm_source={network}&utm_medium=social&utm_campaign=equity"


def test_without_utm_every_network_shares_the_page_itself() -> None:
    links = links_for(tweet(url=PAGE), utm=False)
    assert query(links["facebook"])["u"] == [PAGE]
    assert query(links["linkedin"])["url"] == [PAGE]
    assert query(links["x"])["url"] == [PAGE]


def test_each_network_link_has_its_documented_shape() -> None:
    links = links_for(tweet(hashtags=["Equity"]))
    assert links["bluesky"].startswith("https://bsky.app/intent/compose?text=")
    assert links["facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=https%3A")
    assert links["linkedin"].startswith(
        "https://www.linkedin.com/sharing/share-offsite/?url=https%3A")
    assert links["mastodon"].startswith("/equity-sel/share/mastodon/?text=")
    assert links["email"].startswith("mailto:?subject=Family%20night&body=Dinner%20for%20all.")
    assert query(links["bluesky"])["text"] == [
        f"Family night {share_url(PAGE, 'bluesky', campaign_id='equity', utm=True)} #Equity"]


HARD = 'Q&A: 100% #fun + "quotes" \'too\'\nnew line ☕ 教育 é ሰላም 🇪🇹 a=b?c/d'


def test_awkward_text_survives_a_round_trip_in_every_link() -> None:
    t = tweet(title=HARD, hashtags=["Équité"])
    links = links_for(t, title=HARD, summary=HARD)
    normalised = " ".join(HARD.split())  # titles lose their line breaks
    assert query(links["x"])["text"] == [normalised]
    assert query(links["x"])["hashtags"] == ["Équité"]
    assert query(links["bluesky"])["text"][0].startswith(normalised + " https://")
    assert query(links["mastodon"])["text"][0].startswith(normalised + " https://")
    email = query(links["email"].replace("mailto:", "mailto:x", 1))
    assert email["subject"] == [normalised]
    assert email["body"][0].startswith(normalised + "\r\n\r\nhttps://")


def test_hrefs_are_encoded_once_strictly_with_no_plus_for_spaces() -> None:
    links = links_for(tweet(title=HARD), title=HARD, summary=HARD)
    for network, href in links.items():
        tail = href.partition("?")[2]
        assert " " not in href and "+" not in tail, network
        assert "%2525" not in href, network  # HARD's own % is encoded once, as %25…
        for pair in tail.split("&"):
            value = pair.partition("=")[2]
            assert set(value) <= set(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%,"), network
        carries = {"x": 1, "bluesky": 1, "mastodon": 1, "email": 2}.get(network, 0)
        assert unquote(tail).count("100% #fun") == carries, network  # …and decodes to one %


def test_email_separates_summary_and_link_with_crlf_encoded() -> None:
    href = links_for(tweet())["email"]
    assert "%0D%0A%0D%0Ahttps%3A%2F%2F" in href and "%20" in href


def test_bluesky_text_is_fitted_to_300_graphemes() -> None:
    page = "https://example.org/" + "p" * 150 + "/"  # a long link counts in full there
    t = compose_tweet(title=long_words(40), url=share_url(page, "x", campaign_id="equity",
                                                          utm=True), hashtags=["Equity"])
    text = query(links_for(t, page=page)["bluesky"])["text"][0]
    assert len(graphemes(text)) <= BLUESKY_LIMIT
    assert share_url(page, "bluesky", campaign_id="equity", utm=True) in text
    assert "…" in text


def test_the_x_link_refuses_a_tweet_composed_for_another_address() -> None:
    with pytest.raises(ValueError, match="share_url"):
        links_for(tweet(url=PAGE), utm=True)


def test_unknown_networks_are_refused() -> None:
    with pytest.raises(ValueError, match="myspace"):
        share_links(tweet(), networks=("myspace",), title="", summary="", page_url=PAGE,
                    campaign_id="equity", utm=False, mastodon_page="/m/")


# --- share.js in a real browser ------------------------------------------------------------

SHARE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Share</title>
<script src="share.js" defer></script></head><body>
<div data-share>
  <button type="button" hidden data-copy-link="https://example.org/p/?a=1&amp;b=2">Copy
    link</button>
  <button type="button" hidden data-web-share data-title="Family night" data-text="Join us"
          data-url="https://example.org/p/">Share…</button>
  <p data-share-status aria-live="polite"></p>
</div>
<form data-mastodon-share>
  <label>Your server <input name="instance"></label>
  <label>Text <textarea name="text"></textarea></label>
  <button>Share on Mastodon</button>
  <p data-share-status aria-live="polite"></p>
</form>
</body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def share_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("share")
    (root / "index.html").write_text(SHARE_PAGE, encoding="utf-8")
    shutil.copy(repo_root() / "themes/default/static/share.js", root / "share.js")
    with serve_directory(root) as base:
        yield base


def hidden(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "el => el.hidden"))


@pytest.mark.browser
def test_copy_link_button_appears_copies_and_announces(browser: Browser, share_site: str) -> None:
    with new_page(browser) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=share_site)
        page.goto(share_site)
        assert not hidden(page, "[data-copy-link]")
        page.click("[data-copy-link]")
        page.wait_for_function(
            "document.querySelector('[data-share] [data-share-status]').textContent !== ''")
        assert page.text_content("[data-share] [data-share-status]") == "Link copied"
        assert page.evaluate("navigator.clipboard.readText()") == "https://example.org/p/?a=1&b=2"


@pytest.mark.browser
def test_controls_stay_hidden_without_the_apis(browser: Browser, share_site: str) -> None:
    with new_page(browser) as page:
        page.add_init_script("delete Navigator.prototype.share;"
                             "Object.defineProperty(navigator, 'clipboard', {value: undefined})")
        page.goto(share_site)
        assert hidden(page, "[data-copy-link]") and hidden(page, "[data-web-share]")


@pytest.mark.browser
def test_web_share_button_appears_with_the_api_and_shares_the_page(
    browser: Browser, share_site: str
) -> None:
    with new_page(browser) as page:
        # Chromium on Linux has no share sheet: stand one in that records what it was given.
        page.add_init_script(
            "navigator.share = d => { window.shared = d; return Promise.resolve(); }")
        page.goto(share_site)
        assert not hidden(page, "[data-web-share]")
        page.click("[data-web-share]")
        assert page.evaluate("window.shared") == {
            "title": "Family night", "text": "Join us", "url": "https://example.org/p/"}


@pytest.mark.browser
def test_mastodon_form_fills_the_text_remembers_the_server_and_opens_its_share_page(
    browser: Browser, share_site: str
) -> None:
    text = "Family night & more: 100% #fun 教育 🇪🇹 https://example.org/p/?utm_source=mastodon"
    opened: list[str] = []

    def mastodon(route: Route) -> None:
        opened.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Mastodon</title>")

    with new_page(browser) as page:
        page.route("https://mastodon.social/**", mastodon)
        url = share_site + "?text=" + quote(text, safe="")
        page.goto(url)
        assert page.input_value("textarea[name=text]") == text
        page.fill("input[name=instance]", "not a server")
        page.click("form button")
        assert page.url == url and opened == []
        assert page.get_attribute("input[name=instance]", "aria-invalid") == "true"
        page.wait_for_function("document.querySelector('form [data-share-status]').textContent")
        assert page.text_content("form [data-share-status]") == (
            "Type your Mastodon server's address, like mastodon.social")
        assert page.text_content("[data-share] [data-share-status]") == ""
        page.fill("input[name=instance]", "@reader@Mastodon.Social")
        page.click("form button")
        page.wait_for_url("https://mastodon.social/**")
        assert urlsplit(opened[0])[:3] == ("https", "mastodon.social", "/share")
        assert query(opened[0]) == {"text": [text]}
        page.goto(url)
        assert page.input_value("input[name=instance]") == "mastodon.social"
        assert page.url == url  # filled in, but nobody is sent anywhere unasked
