"""Social cards: real PNGs decoded with Pillow, real fonts, a real cache folder."""

from __future__ import annotations

import io
import logging
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont, features

from generator.cards import (
    ARABIC,
    CJK,
    ETHIOPIC,
    FONT_DIR,
    HEIGHT,
    LATIN,
    TEXT,
    TITLE_BOX,
    WIDTH,
    Block,
    CardCache,
    CardLayout,
    CardSpec,
    FontBook,
    Run,
    _chrome,
    _draw_block,
    card_colors,
    card_key,
    layout_card,
    render_card,
)
from generator.png import PAD

SITE = "CCPS Equity & SEL"
TITLES = {
    "en": ("Family Math Night brings 400 families to Eastside Elementary", {LATIN}),
    "vi": ("Đêm Toán học Gia đình thu hút 400 gia đình đến trường Tiểu học", {LATIN}),
    "am": ("የቤተሰብ የሂሳብ ምሽት 400 ቤተሰቦችን ወደ ትምህርት ቤት አመጣ", {ETHIOPIC, LATIN}),
    "zh": ("2024年家庭数学之夜吸引了400个家庭来到东区小学（还有奖品）。", {CJK}),
    "zh-Hant": ("學校家長會邀請所有家庭參加數學之夜，歡迎光臨！", {CJK}),
    "ko": ("가족 수학의 밤에 400 가족이 이스트사이드 초등학교를 찾았습니다", {CJK}),
    "ar": ("أمسية الرياضيات العائلية تجذب 400 عائلة إلى مدرسة CCPS الابتدائية", {ARABIC, LATIN}),
    "ja": ("家族の算数の夜に400家族が参加しました", {CJK}),
}
LONG_TITLE = " ".join(f"Extraordinary{i} celebrations" for i in range(40))


@pytest.fixture(scope="module")
def fonts() -> FontBook:
    return FontBook()


def spec(title: str, lang: str = "en", color: str = "#0b5394",
         campaign: str = "Equity") -> CardSpec:
    return CardSpec(title=title, campaign=campaign, site=SITE, color=color, lang=lang)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixels_of(image: Image.Image, color: str, box: tuple[int, int, int, int]) -> int:
    """How many pixels in ``box`` (left, top, right, bottom) have exactly ``color``."""
    rgb = image.convert("RGB").crop(box)
    wanted = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    return sum(count for count, c in rgb.getcolors(WIDTH * HEIGHT) or [] if c == wanted)


def wcag_contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Written out again here, so the module's own contrast code is checked, not trusted."""
    def lum(rgb: tuple[int, ...]) -> float:
        lin = [(v / 255 / 12.92 if v / 255 <= 0.04045 else ((v / 255 + 0.055) / 1.055) ** 2.4)
               for v in rgb[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def glyph_pixels(face: str, text: str) -> bytes:
    """``text`` drawn alone without shaping: equal bytes for two characters mean equal glyphs."""
    font = ImageFont.truetype(FONT_DIR / face, 64, layout_engine=ImageFont.Layout.BASIC)
    image = Image.new("L", (160, 140))
    ImageDraw.Draw(image).text((40, 100), text, font=font, fill=255, anchor="ls")
    return image.tobytes()


def drawn_text(layout_lines: CardLayout) -> str:
    return "".join(run.text for line in layout_lines.title.lines for run in line)


def test_card_is_a_small_1200x630_png_with_the_headline_drawn(fonts: FontBook) -> None:
    card = spec(TITLES["en"][0])
    data = render_card(card, fonts)
    image = decode(data)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (image.format, image.size) == ("PNG", (WIDTH, HEIGHT))
    assert len(data) < 80_000
    text = card_colors(card.color).text
    left, right, top, bottom = TITLE_BOX
    assert pixels_of(image, text, (left, top, right, bottom)) > 20_000
    assert pixels_of(image, text, (0, 0, WIDTH, 40)) == 0  # nothing above the campaign name
    assert "tIME" not in str(image.info) and not image.info.get("timestamp")


def test_different_titles_give_different_cards_and_equal_specs_equal_bytes(
        fonts: FontBook) -> None:
    first = render_card(spec("Family Math Night"), fonts)
    assert render_card(spec("Family Math Night"), FontBook()) == first
    assert render_card(spec("Family Reading Night"), fonts) != first
    assert render_card(spec("Family Math Night", campaign="SEL"), fonts) != first


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_each_script_is_drawn_in_a_face_that_has_every_character(
        fonts: FontBook, lang: str) -> None:
    title, faces = TITLES[lang]
    layout = layout_card(spec(title, lang), fonts)
    runs = [run for line in layout.title.lines for run in line]
    assert {run.face for run in runs} == faces
    assert not layout.title.truncated
    # Nothing was dropped: the drawn text is the title less the spaces where lines broke.
    assert sorted(drawn_text(layout).replace(" ", "")) == sorted(title.replace(" ", ""))
    for run in runs:
        tofu = glyph_pixels(run.face, "\U0010fffd")  # a private-use code point: no font has it
        for char in run.text:
            if unicodedata.category(char)[0] not in "ZC":
                assert glyph_pixels(run.face, char) != tofu, (lang, char, run.face)
    image = decode(render_card(spec(title, lang), fonts))
    left, right, top, bottom = TITLE_BOX
    assert pixels_of(image, layout.colors.text, (left, top, right, bottom)) > 5_000


def test_pillow_has_raqm_so_arabic_is_shaped_right_to_left() -> None:
    assert features.check("raqm"), "Pillow without raqm (libfribidi missing): no Arabic shaping"


def test_arabic_lines_are_right_aligned_with_latin_words_in_visual_order(
        fonts: FontBook) -> None:
    layout = layout_card(spec(TITLES["ar"][0], "ar"), fonts)
    right = TITLE_BOX[1]
    for line in layout.title.lines:
        assert line[-1].x + line[-1].width == pytest.approx(right, abs=0.01)
    runs = [run for line in layout.title.lines for run in line]
    latin = next(run for run in runs if run.face == LATIN)
    assert latin.text.strip() == "CCPS" and not latin.rtl
    line = next(line for line in layout.title.lines if latin in line)
    # "مدرسة" comes before "CCPS" in reading order, so it sits to its right.
    before = next(run for run in line if "مدرسة" in run.text)
    assert before.rtl and before.x > latin.x


def test_japanese_gets_japanese_glyph_forms(fonts: FontBook) -> None:
    assert render_card(spec("直骨", "ja"), fonts) != render_card(spec("直骨", "zh"), fonts)


def test_without_raqm_arabic_still_renders_in_right_to_left_order(
        caplog: pytest.LogCaptureFixture) -> None:
    basic = FontBook(raqm=False)
    with caplog.at_level(logging.WARNING, logger="generator.cards"):
        image = decode(render_card(spec(TITLES["ar"][0], "ar"), basic))
    assert image.size == (WIDTH, HEIGHT)
    assert "no raqm" in caplog.text
    line = layout_card(spec(TITLES["ar"][0], "ar"), basic).title.lines[0]
    assert line[-1].x + line[-1].width == pytest.approx(TITLE_BOX[1], abs=0.01)


def test_a_very_long_title_shrinks_wraps_and_ends_in_an_ellipsis(fonts: FontBook) -> None:
    layout = layout_card(spec(LONG_TITLE), fonts)
    block = layout.title
    assert block.truncated and block.size == 40 and len(block.lines) == 5
    last = "".join(run.text for run in block.lines[-1])
    assert last.endswith("…")
    assert last[:-1].split()[-1] in LONG_TITLE.split()  # cut at a word, not inside one
    left, right, top, bottom = TITLE_BOX
    for line in block.lines:
        assert line[0].x >= left and line[-1].x + line[-1].width <= right + 0.5
    assert block.baselines[0] - block.size > top - 1 and block.baselines[-1] < bottom
    data = render_card(spec(LONG_TITLE), fonts)
    image = decode(data)
    assert pixels_of(image, layout.colors.text, (right + 4, 0, WIDTH, HEIGHT)) == 0
    assert len(data) < 80_000


def test_a_short_title_stays_large(fonts: FontBook) -> None:
    block = layout_card(spec("Math Night"), fonts).title
    assert block.size == 72 and len(block.lines) == 1 and not block.truncated


def test_the_ellipsis_replaces_whole_words_when_the_last_line_is_full(fonts: FontBook) -> None:
    # Two words that just fill a line at the smallest size: no room is left for "…".
    left, right, _, _ = TITLE_BOX
    filler = max(k for k in range(1, 80) if fonts.length(
        "Neighbourhood " + "m" * k, LATIN, 40, rtl=False, lang="en") <= right - left)
    title = ("Neighbourhood " + "m" * filler + " ") * 8
    block = layout_card(spec(title), fonts).title
    assert block.truncated and block.size == 40
    assert "".join(run.text for run in block.lines[-1]) == "Neighbourhood…"


def test_dense_chinese_card_stays_under_80_kb(fonts: FontBook) -> None:
    title = "学生和家长一起玩数学游戏，还有奖品。" * 12
    layout = layout_card(spec(title, "zh"), fonts)
    assert len(layout.title.lines) == 5 and drawn_text(layout).endswith("…")
    assert len(render_card(spec(title, "zh"), fonts)) < 80_000


@pytest.mark.parametrize("pattern", ["字字。", "字字）", "字「字", "字字（"])
def test_chinese_breaks_between_characters_but_not_around_brackets_and_stops(
        fonts: FontBook, pattern: str) -> None:
    # Lines of equal-width characters fill to the same count, so a three-character pattern
    # would put a stop at the start of some line if breaks were allowed everywhere.
    layout = layout_card(spec(pattern * 60, "zh"), fonts)
    lines = ["".join(run.text for run in line) for line in layout.title.lines]
    assert len(lines) == 5
    assert not any(line[0] in "。）" for line in lines)
    assert not any(line.rstrip("…")[-1] in "「（" for line in lines)


def test_unbreakable_words_split_between_grapheme_clusters_only(fonts: FontBook) -> None:
    word = "q\u0307" * 120  # q + combining dot above: no precomposed form exists
    block = layout_card(spec(word), fonts).title
    assert len(block.lines) > 1
    for line in block.lines:
        text = "".join(run.text for run in line)
        assert unicodedata.category(text[0]) != "Mn"
        assert text.rstrip("…").endswith("\u0307")


def test_mixed_scripts_pick_a_face_per_run(fonts: FontBook) -> None:
    layout = layout_card(spec("Việt 学校 ምሽት", "vi"), fonts)
    faces = {run.text.strip(): run.face for line in layout.title.lines for run in line}
    assert faces == {"Việt": LATIN, "学校": CJK, "ምሽት": ETHIOPIC}


def test_characters_no_font_has_are_left_out_not_drawn_as_boxes(fonts: FontBook) -> None:
    layout = layout_card(spec("Math Night 🎉 for all"), fonts)
    assert drawn_text(layout) == "Math Night for all"


@pytest.mark.parametrize("color", ["#0b5394", "#ffd966", "#777777", "#ffffff", "#000000",
                                   "#e06666", "#38761d", "#fc0"])
def test_text_has_at_least_aa_contrast_on_every_campaign_colour(
        fonts: FontBook, color: str) -> None:
    colors = card_colors(color)
    image = decode(render_card(spec("Contrast check", color=color), fonts)).convert("RGB")
    background, band = image.getpixel((2, 2)), image.getpixel((2, HEIGHT - 2))
    assert isinstance(background, tuple) and isinstance(band, tuple)
    text = tuple(int(colors.text[i:i + 2], 16) for i in (1, 3, 5))
    band_text = tuple(int(colors.band_text[i:i + 2], 16) for i in (1, 3, 5))
    assert wcag_contrast(text, background) >= 4.5
    assert wcag_contrast(band_text, band) >= 4.5
    assert pixels_of(image, colors.text, (0, 0, WIDTH, 540)) > 1_000
    assert pixels_of(image, colors.band_text, (0, 550, WIDTH, HEIGHT)) > 500


def test_a_mid_grey_that_no_text_colour_reaches_aa_on_is_darkened() -> None:
    colors = card_colors("#777777")
    assert colors.background != "#777777" and colors.text == "#ffffff"
    assert int(colors.background[1:3], 16) < 0x77


def test_bad_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="#0b5394"):
        card_colors("blue")


def test_site_wide_card_has_no_campaign_line(fonts: FontBook) -> None:
    card = spec("About this site", campaign="")
    assert layout_card(card, fonts).campaign is None
    image = decode(render_card(card, fonts))
    assert pixels_of(image, card_colors(card.color).text, (0, 40, WIDTH, 135)) == 0


def test_card_key_is_short_hex_and_changes_with_every_field() -> None:
    base = spec("Math Night")
    keys = {card_key(base), card_key(spec("Math Night!")), card_key(spec("Math Night", "es")),
            card_key(spec("Math Night", color="#990000")),
            card_key(spec("Math Night", campaign="SEL")),
            card_key(CardSpec("Math Night", "Equity", "Other site", "#0b5394"))}
    assert len(keys) == 6
    assert len(card_key(base)) == 16 and int(card_key(base), 16) >= 0
    assert card_key(base) == card_key(spec("Math Night"))


def test_a_finished_card_is_read_not_drawn_again(tmp_path: Path) -> None:
    published, spare = tmp_path / "output" / "cards", tmp_path / ".output.spare" / "cards"
    first = CardCache([published, spare])
    data = first.get(spec("Math Night"))
    assert first.rendered == 1
    assert data == render_card(spec("Math Night"))
    spare.mkdir(parents=True)
    (spare / f"{card_key(spec('Math Night'))}.png").write_bytes(data)

    later_build = CardCache([published, spare])  # a rebuild finds it by its content hash
    assert later_build.get(spec("Math Night")) == data
    assert later_build.rendered == 0
    later_build.get(spec("Reading Night"))
    assert later_build.rendered == 1


def test_a_card_file_cut_short_is_drawn_again(tmp_path: Path) -> None:
    data = render_card(spec("Math Night"))
    (tmp_path / f"{card_key(spec('Math Night'))}.png").write_bytes(data[:-20])
    cache = CardCache([tmp_path])
    assert cache.get(spec("Math Night")) == data
    assert cache.rendered == 1


def test_the_latin_shortcut_lays_out_as_the_general_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Latin headlines skip clustering and face assignment character by character; the
    lines, sizes and positions must be those the general path finds."""
    import random
    import re

    from generator import cards
    fonts = cards.FontBook()
    rng = random.Random(5)
    alphabet = [*"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                *"     ,.;:!?'\"()-–—…’“”&%$€£@#/", "\xa0", "\u00ad", "é", "ß", "ł", "ǅ", "ʼ",
                "\u2010", "\u2027", "‰", "₹", "\u205e", "ا", "中", "😀", "e\u0301", "Ω", "я"]
    titles = ["".join(rng.choice(alphabet[:-6] if i % 2 else alphabet)
                      for _ in range(rng.randint(1, 160))) for i in range(400)]

    def lay(title: str) -> cards.Block:
        return cards._set_text(title, fonts, "en", cards.TITLE_BOX, cards.TITLE_SIZES,
                               cards.TITLE_MAX_LINES)
    fast = [lay(title) for title in titles]
    assert sum(bool(cards._SIMPLE.fullmatch(t)) for t in titles) > 150
    monkeypatch.setattr(cards, "_SIMPLE", re.compile("(?!)"))
    assert [lay(title) for title in titles] == fast


def test_words_copied_in_already_blended_are_the_pixels_of_blending_them(
        fonts: FontBook, monkeypatch: pytest.MonkeyPatch) -> None:
    """Most headline words are copied onto the card already blended (``_draw_words``); only
    where the card is not blank or words meet are they blended through their masks. Either
    way the pixels must be those of blending every word."""
    blended: list[str] = []
    real_mask = fonts.mask

    def mask(text: str, face: str, size: int) -> tuple[Image.Image, int, int]:
        blended.append(text)
        return real_mask(text, face, size)
    monkeypatch.setattr(fonts, "mask", mask)

    def both(card: CardSpec, block: Block) -> tuple[bytes, bytes]:
        backdrop = _chrome(card, fonts)
        quick, slow = backdrop.canvas(), backdrop.canvas()
        _draw_block(quick, block, fonts, TEXT, dx=PAD, blank=backdrop.blank)
        _draw_block(slow, block, fonts, TEXT, dx=PAD)  # every word through its mask
        return quick.tobytes(), slow.tobytes()

    for lang, (title, _) in [*TITLES.items(), ("en", (LONG_TITLE, {LATIN}))]:
        card = spec(title, lang)
        block = layout_card(card, fonts).title
        quick, slow = both(card, block)
        assert quick == slow, lang
    blended.clear()
    card = spec(TITLES["en"][0])
    quick, slow = both(card, layout_card(card, fonts).title)
    assert quick == slow and len(blended) == len(TITLES["en"][0].split())  # the slow one's

    # Two runs over each other, on the campaign's line and rule: all blended.
    overlapping = Block(72, ((Run("Overlap here", LATIN, False, 0.0, 0.0),
                              Run("Overlap", LATIN, False, 30.0, 0.0)),
                             (Run("Below", LATIN, False, 0.0, 0.0),)), (130.0, 400.0),
                        False, "en", False)
    both(card, overlapping)  # each word drawn once before: the counts below are of the second time
    blended.clear()
    quick, slow = both(card, overlapping)
    assert quick == slow
    # Quick: the first two words lie on the campaign's line, the third on the first two; the
    # last is copied. Slow: all four.
    assert blended == ["Overlap", "here", "Overlap", "Overlap", "here", "Overlap", "Below"]


def test_a_latin_card_reads_the_latin_faces_alone() -> None:
    """Character maps are read on first need: the CJK face's alone is ~8 ms a process."""
    fonts = FontBook()
    assert not fonts.cmaps
    decode(render_card(spec(TITLES["en"][0]), fonts))
    assert set(fonts.cmaps) == {LATIN, "NotoSans-Regular.ttf"}
    decode(render_card(spec(TITLES["ja"][0], "ja"), fonts))
    assert CJK in fonts.cmaps
