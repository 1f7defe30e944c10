"""Sharing in a built site: every share link decoded and compared with what was intended."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from PIL import Image

from generator.build import BuildOptions, build
from generator.social import valid_hashtag, weighted_length
from tests.conftest import write_tree

NOW = datetime(2026, 5, 1, tzinfo=UTC)
SITE = """\
title: "Share & Test"
description: Testing share links.
base_url: https://example.org/sub/path/
language: en
languages: [es]
timezone: America/New_York
share:
  networks: [x, bluesky, facebook, linkedin, mastodon, email]
  utm: true
campaigns:
  equity:
    name: Equity Team
    handle: TeamEquity
    hashtags: [TeamEquity, EdEquity]
    related: [PartnerOrg]
    color: "#0b5394"
"""
TRICKY = """\
---
title: "Fees & #hashtags: 100% + \\"quotes\\" — émoji 🎉 and 中文"
date: 2026-04-01
campaign: equity
summary: "Line one & <two> + 50% #not-a-tag"
hashtags: [FamilyNight]
---
Body.

> tweet: Every child is known by name & by need — 100% of the time.
"""
HANDWRITTEN = """\
---
title: Hand written
date: 2026-04-02
campaign: equity
tweet: "Our own words, with a link: example.org/events & a #Tag.\\nSecond line."
---
Body.
"""
LONG = """\
---
title: "{title}"
date: 2026-04-03
campaign: equity
summary: "{summary}"
---
Body.
"""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a)
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text("utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("share")
    long_title = " ".join(["Families"] + ["and schools together"] * 40)
    write_tree(root / "content", {
        "site.yaml": SITE,
        "posts/tricky.md": TRICKY,
        "posts/hand.md": HANDWRITTEN,
        "posts/long.md": LONG.format(title=long_title, summary="word " * 80),
        "posts/zh.md": LONG.format(title="学生的声音" * 60, summary="").replace(
            "date: 2026-04-03", "date: 2026-04-04"),
    })
    build(BuildOptions(content_dir=root / "content", output_dir=root / "output",
                       offline=True, cache=False), now=NOW)
    return root / "output"


def share_links(page: Path) -> dict[str, str]:
    return {cls.split("share-")[-1]: a["href"] for a in parse(page).links
            if "share-link" in (cls := a.get("class", ""))}


def single_encoded(query: str) -> None:
    """Each value is percent-encoded exactly once: decoding then encoding gives it back."""
    for pair in query.split("&"):
        _, _, value = pair.partition("=")
        for part in value.split(","):
            assert quote(unquote(part), safe="") == part, part


def test_every_network_in_order(site: Path) -> None:
    links = share_links(site / "posts/tricky/index.html")
    assert list(links) == ["x", "bluesky", "facebook", "linkedin", "mastodon", "email"]
    for a in parse(site / "posts/tricky/index.html").links:
        if "share-link" in a.get("class", ""):
            assert a["target"] == "_blank"
            assert "noopener" in a["rel"]


def test_x_link_round_trip(site: Path) -> None:
    href = share_links(site / "posts/tricky/index.html")["x"]
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/intent/tweet")
    single_encoded(parts.query)
    q = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    assert q["text"].startswith('Fees & #hashtags: 100% + "quotes" — émoji 🎉 and 中文')
    assert q["url"] == ("https://example.org/sub/path/posts/tricky/?utm_source=x"
                        "&utm_medium=social&utm_campaign=equity")
    tags = q["hashtags"].split(",")
    assert tags[:2] == ["TeamEquity", "EdEquity"] and all(valid_hashtag(t) for t in tags)
    assert q["via"] == "TeamEquity"
    assert q["related"] == "PartnerOrg"
    full = f"{q['text']} {q['url']} {' '.join('#' + t for t in tags)} via @{q['via']}"
    assert weighted_length(full) <= 280


def test_other_networks_round_trip(site: Path) -> None:
    links = share_links(site / "posts/tricky/index.html")
    page = "https://example.org/sub/path/posts/tricky/"
    bsky = urlsplit(links["bluesky"])
    single_encoded(bsky.query)
    text = parse_qs(bsky.query)["text"][0]
    assert f"{page}?utm_source=bluesky&utm_medium=social&utm_campaign=equity" in text
    assert "🎉" in text and "100% +" in text
    fb = parse_qs(urlsplit(links["facebook"]).query)["u"][0]
    assert fb == f"{page}?utm_source=facebook&utm_medium=social&utm_campaign=equity"
    li = parse_qs(urlsplit(links["linkedin"]).query)["url"][0]
    assert li.startswith(page + "?utm_source=linkedin")
    mastodon = urlsplit(links["mastodon"])
    assert mastodon.path == "/sub/path/share/mastodon/"
    assert page in parse_qs(mastodon.query)["text"][0]
    mail = links["email"]
    assert mail.startswith("mailto:?subject=")
    assert "+" not in mail and "%20" in mail
    body = parse_qs(urlsplit(mail).query)["body"][0]
    assert f"{page}?utm_source=email" in body


def test_handwritten_tweet_and_newlines(site: Path) -> None:
    q = parse_qs(urlsplit(share_links(site / "posts/hand/index.html")["x"]).query)
    assert q["text"][0] == "Our own words, with a link: example.org/events & a #Tag.\nSecond line."


@pytest.mark.parametrize("page", ["posts/long/index.html", "posts/zh/index.html"])
def test_long_titles_are_fitted(site: Path, page: str) -> None:
    q = {k: v[0] for k, v in parse_qs(urlsplit(share_links(site / page)["x"]).query).items()}
    tags = " ".join("#" + t for t in q["hashtags"].split(","))
    full = f"{q['text']} {q['url']} {tags} via @{q['via']}"
    assert weighted_length(full) <= 280
    assert q["text"].endswith("…")
    assert weighted_length(full) > 250, "fitting should use the room it has"


def test_click_to_tweet_quote(site: Path) -> None:
    html = (site / "posts/tricky/index.html").read_text()
    assert '<figure class="tweetable">' in html
    quote_link = next(a["href"] for a in parse(site / "posts/tricky/index.html").links
                      if a.get("class") == "tweetable-share")
    q = {k: v[0] for k, v in parse_qs(urlsplit(quote_link).query).items()}
    assert q["text"] == "“Every child is known by name & by need — 100% of the time.”"
    assert q["via"] == "TeamEquity"
    assert q["url"].startswith("https://example.org/sub/path/posts/tricky/")


def test_open_graph_and_card(site: Path) -> None:
    meta = parse(site / "posts/tricky/index.html").meta
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:site"] == "@TeamEquity"
    assert meta["og:url"] == "https://example.org/sub/path/posts/tricky/"
    assert meta["og:site_name"] == "Share & Test"
    assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
    image = meta["og:image"]
    assert re.fullmatch(r"https://example\.org/sub/path/cards/[0-9a-f]{16}\.png", image)
    assert meta["og:image:alt"]
    card = site / image.removeprefix("https://example.org/sub/path/")
    with Image.open(io.BytesIO(card.read_bytes())) as opened:
        assert opened.size == (1200, 630)
        assert len(opened.getcolors(4096) or []) > 2, "the headline was drawn"


def test_campaign_and_home_pages_share_too(site: Path) -> None:
    assert share_links(site / "campaigns/equity/index.html")["x"]
    assert share_links(site / "index.html")["x"]


def test_share_preview_for_writers(site: Path) -> None:
    html = (site / "share-preview/index.html").read_text()
    assert '<meta name="robots" content="noindex">' in html
    assert html.count('class="preview"') == 4
    assert re.search(r"\d+/280 as X counts it", html)
    assert "share-preview" not in (site / "sitemap.xml").read_text()
