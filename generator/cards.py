"""Social cards: a 1200x630 PNG per page with its headline drawn in, for large link previews.

X shows no headline under large cards since 2023, so the picture has to carry it. Layout is
pure (spec + fonts → positioned runs); drawing and PNG encoding follow; ``CardCache`` keeps
finished cards on disk by a content key so that rebuilds never redraw an unchanged card.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import operator
import re
import struct
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import PIL
import zlib_ng
from PIL import Image, ImageColor, ImageDraw, ImageFont, features

from .colors import AA_TEXT, contrast, readable_on
from .png import PAD, SIGNATURE, Backdrop

logger = logging.getLogger(__name__)

RENDERER_VERSION = "6"  # bump when a change here or in png.py alters an unchanged spec's bytes
WIDTH, HEIGHT = 1200, 630
FONT_DIR = Path(__file__).parent / "fonts"
MARGIN = 72
TITLE_SIZES = (72, 66, 60, 54, 48, 44, 40)
TITLE_MAX_LINES = 5
TITLE_BOX = (MARGIN, WIDTH - MARGIN, 140, 516)  # left, right, top, bottom
CAMPAIGN_BOX = (MARGIN, WIDTH - MARGIN, 52, 112)
BAND_TOP = 548
SITE_BOX = (MARGIN, WIDTH - MARGIN, BAND_TOP, HEIGHT)
WHITE, INK = "#ffffff", "#111111"
ELLIPSIS = "…"
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk and its CRC: the last bytes of every PNG
MEMO_LIMIT = 50_000  # measured widths kept per process (~100 bytes each)
WORD_LIMIT = 2_000  # rasterised words kept per process (~15 KB each)
# Palette indices: the card is drawn straight into a 16-colour palette image. Text is
# blended as coverage between two indices, so index 0-7 run from the background to the text
# colour and 8-15 from the band to its text: anti-aliasing without any colour quantising.
BACKGROUND, TEXT, BAND, BAND_TEXT = 0, 7, 8, 15

LATIN, LATIN_REGULAR = "NotoSans-Bold.ttf", "NotoSans-Regular.ttf"
ARABIC, ETHIOPIC = "NotoSansArabic-Bold.ttf", "NotoSansEthiopic-Bold.ttf"
CJK = "NotoSansCJKsc-Bold-subset.otf"  # also Hangul, kana, common traditional hanzi
# Line height in em per face: Arabic marks reach far above and below the Latin line.
LINE_HEIGHT = MappingProxyType(
    {LATIN: 1.22, LATIN_REGULAR: 1.22, ARABIC: 1.6, ETHIOPIC: 1.35, CJK: 1.32})
PRIMARY_FACE = MappingProxyType({
    "zh": CJK, "ja": CJK, "ko": CJK, "am": ETHIOPIC, "ti": ETHIOPIC, "ar": ARABIC,
    "fa": ARABIC, "ur": ARABIC, "ps": ARABIC, "ckb": ARABIC, "sd": ARABIC, "ug": ARABIC,
})
RTL_LANGS = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug", "he", "yi", "dv"})
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_JOINERS = frozenset({0x200C, 0x200D, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)})
# Line breaking in CJK text: never before closing marks, never after opening ones.
_NO_BREAK_BEFORE = frozenset("、。，．）」』】〕》〉〗〙］｝！？：；・ー〜々ゝゞヽヾ…‥,.!?:;)]}’”%"
                             "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")
_NO_BREAK_AFTER = frozenset("（「『【〔《〈〖〘［｛([{‘“")
_BREAK_SPACES = frozenset({" ", "\u200b"})
_BREAK_AFTER = frozenset({" ", "\u200b", "\u1361"})  # \u1361: the Ethiopic wordspace
_RTL_CLASSES = frozenset({"R", "AL", "AN"})
_SPACES = re.compile(r"[ \t\n\r\f\v\u2028\u2029]+")
# Characters that never join a neighbour into one cluster (no marks, joiners, emoji…) and
# are never right-to-left: Latin, its symbols, general punctuation and currency signs.
_SIMPLE = re.compile("[\x20-\x7e\xa0-\u02ff\u2010-\u2027\u2030-\u205e\u20a0-\u20c0]*")

Item = tuple[str, str]  # (grapheme cluster, face file name)
Word = tuple[Image.Image, int, int]  # a word's picture, and its offset from the pen position


@dataclass(frozen=True, slots=True)
class CardSpec:
    """What a card shows; equal specs give byte-identical PNGs."""

    title: str
    campaign: str
    site: str
    color: str
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class CardColors:
    """The card's colours as ``#rrggbb``; each text colour has ≥ 4.5:1 against its background."""

    background: str
    text: str
    band: str
    band_text: str


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of one line set in one face and one direction; ``x`` is its left edge."""

    text: str
    face: str
    rtl: bool
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Block:
    """A laid-out text: its size, lines of runs in visual order, and each line's baseline."""

    size: int
    lines: tuple[tuple[Run, ...], ...]
    baselines: tuple[float, ...]
    truncated: bool
    lang: str | None
    rtl: bool


@dataclass(frozen=True, slots=True)
class CardLayout:
    """Everything ``render_card`` draws, positioned."""

    colors: CardColors
    title: Block
    campaign: Block | None
    site: Block


class _Cmaps(dict[str, frozenset[int]]):
    """Each face's character map, read on first use: most sites' cards need the Latin faces
    alone (reading all five took 14 ms in each process that draws cards)."""

    def __init__(self, font_dir: Path) -> None:
        super().__init__()
        self.font_dir = font_dir

    def __missing__(self, face: str) -> frozenset[int]:
        found = self[face] = _read_cmap(self.font_dir / face)
        return found


class FontBook:
    """The bundled faces, their character maps and FreeType fonts per size; load once per build."""

    def __init__(self, font_dir: Path = FONT_DIR, *, raqm: bool | None = None) -> None:
        self.font_dir = font_dir
        # Without raqm (Pillow needs libfribidi for it) there is no shaping or bidi.
        self.raqm = bool(features.check("raqm")) if raqm is None else raqm
        self.cmaps = _Cmaps(font_dir)
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        # Headlines share most of their words, so a build measures and rasterises each word
        # once per size and process; both memos are capped to keep memory flat on big sites.
        self._lengths: dict[tuple[str, str, int, bool, str | None], float] = {}
        self._words: dict[tuple[str, str, int, int], Word] = {}
        self._masks: dict[tuple[str, str, int], Word] = {}
        self._chrome: dict[tuple[str, str, str], Backdrop] = {}
        self._chars: dict[str, frozenset[str]] = {}

    def covers(self, face: str, text: str) -> bool:
        """Whether ``face`` has a glyph for every character of ``text``."""
        chars = self._chars.get(face)
        if chars is None:
            chars = self._chars[face] = frozenset(map(chr, self.cmaps[face]))
        return chars.issuperset(text)

    def font(self, face: str, size: int) -> ImageFont.FreeTypeFont:
        """The FreeType font for ``face`` at ``size`` px, loaded on first use."""
        key = (face, size)
        if key not in self._fonts:
            engine = ImageFont.Layout.RAQM if self.raqm else ImageFont.Layout.BASIC
            self._fonts[key] = ImageFont.truetype(self.font_dir / face, size, layout_engine=engine)
        return self._fonts[key]

    def chain(self, lang: str, *, bold: bool) -> tuple[str, ...]:
        """Faces to try for each character: the language's own face first."""
        latin = LATIN if bold else LATIN_REGULAR
        first = PRIMARY_FACE.get(_primary(lang), latin)
        return tuple(dict.fromkeys((first, latin, ARABIC, ETHIOPIC, CJK)))

    def length(self, text: str, face: str, size: int, *, rtl: bool, lang: str | None) -> float:
        """Advance width of ``text`` set in one direction."""
        key = (text, face, size, rtl, lang)
        known = self._lengths.get(key)
        if known is None:
            font = self.font(face, size)
            known = (font.getlength(text, direction="rtl" if rtl else "ltr", language=lang)
                     if self.raqm else font.getlength(text))
            if len(self._lengths) >= MEMO_LIMIT:
                self._lengths.clear()
            self._lengths[key] = known
        return known

    def mask(self, text: str, face: str, size: int) -> Word:
        """``text`` rasterised as a coverage mask, with its top-left corner's offset from the
        pen position (left end of the baseline): for words blended where a card is not
        blank (see ``_draw_words``)."""
        return self._memo(self._masks, (text, face, size), lambda: self._raster(text, face, size))

    def word(self, text: str, face: str, size: int, ink: int) -> Word:
        """``text`` as a palette image of the indices that pasting ``ink`` through its mask
        onto index 0 gives, with the mask's offset: copied onto a blank part of a card, the
        very pixels of that blend, at the cost of a copy."""
        def inked() -> Word:
            mask, left, top = self._raster(text, face, size)
            return (Image.frombytes("P", mask.size, mask.point(_blend_table(ink)).tobytes()),
                    left, top)
        return self._memo(self._words, (text, face, size, ink), inked)

    def _raster(self, text: str, face: str, size: int) -> Word:
        # The font's own mask of the word (what ImageDraw.text draws, without laying the
        # word out twice to find its box first).
        core, (left, top) = self.font(face, size).getmask2(text, "L", anchor="ls")
        return Image.Image()._new(core), left, top

    @staticmethod
    def _memo(memo: dict[Any, Word], key: tuple[object, ...], make: Callable[[], Word]) -> Word:
        """``memo[key]``, made on first use; a memo that reaches WORD_LIMIT starts afresh."""
        known = memo.get(key)
        if known is None:
            if len(memo) >= WORD_LIMIT:
                memo.clear()
            known = memo[key] = make()
        return known


def card_colors(color: str) -> CardColors:
    """White or ink text on the campaign colour, the colour darkened when neither reaches AA."""
    if not _COLOR.fullmatch(color):
        raise ValueError(f"card colour must look like #0b5394, got {color!r}")
    background = _hex(ImageColor.getrgb(color))
    background, text = _text_on(background)
    band, band_text = _text_on(_mix(background, "#000000", 0.3))
    return CardColors(background, text, band, band_text)


def layout_card(spec: CardSpec, fonts: FontBook) -> CardLayout:
    """Position every line of the card: the title shrinks, wraps and at last gets an ellipsis."""
    colors = card_colors(spec.color)
    title = _set_text(spec.title, fonts, spec.lang, TITLE_BOX, TITLE_SIZES, TITLE_MAX_LINES)
    campaign = (_set_text(spec.campaign, fonts, "und", CAMPAIGN_BOX, (30,), 1)
                if spec.campaign.strip() else None)
    site = _set_text(spec.site, fonts, "und", SITE_BOX, (28,), 1, bold=False)
    return CardLayout(colors, title, campaign, site)


def render_card(spec: CardSpec, fonts: FontBook | None = None) -> bytes:
    """The card as deterministic PNG bytes, 1200x630, a 16-colour palette."""
    fonts = fonts or FontBook()
    backdrop = _chrome(spec, fonts)
    canvas = backdrop.canvas()
    title = _set_text(spec.title, fonts, spec.lang, TITLE_BOX, TITLE_SIZES, TITLE_MAX_LINES)
    return backdrop.encode(canvas, _draw_block(canvas, title, fonts, TEXT, dx=PAD,
                                               blank=backdrop.blank))


def _chrome(spec: CardSpec, fonts: FontBook) -> Backdrop:
    """Everything but the headline (colours, campaign line, band with the site's name),
    drawn once per campaign and kept."""
    key = (spec.campaign, spec.site, spec.color)
    known = fonts._chrome.get(key)
    if known is not None:
        return known
    c = card_colors(spec.color)
    image = Image.new("P", (WIDTH, HEIGHT), BACKGROUND)
    shades = [_mix(bg, fg, i / 7) for bg, fg in ((c.background, c.text), (c.band, c.band_text))
              for i in range(8)]
    image.putpalette([v for shade in shades for v in ImageColor.getrgb(shade)[:3]])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, BAND_TOP, WIDTH, HEIGHT), fill=BAND)
    if spec.campaign.strip():
        campaign = _set_text(spec.campaign, fonts, "und", CAMPAIGN_BOX, (30,), 1)
        _draw_block(image, campaign, fonts, TEXT)
        rule_x = WIDTH - MARGIN - 64 if campaign.rtl else MARGIN
        draw.rectangle((rule_x, 124, rule_x + 64, 129), fill=TEXT)
    site = _set_text(spec.site, fonts, "und", SITE_BOX, (28,), 1, bold=False)
    _draw_block(image, site, fonts, BAND_TEXT)
    fonts._chrome[key] = backdrop = Backdrop(image)
    return backdrop


@functools.cache
def _renderer_identity() -> str:
    """The renderer, fonts and libraries that draw and pack cards (read once per process)."""
    parts = (RENDERER_VERSION, PIL.__version__, features.version("freetype2"),
             features.check("raqm"), zlib_ng.__version__,
             *(_font_identity(FONT_DIR / f) for f in LINE_HEIGHT))
    return "".join(f"\0{part}" for part in parts)


@functools.lru_cache(maxsize=1 << 14)  # a rebuild asks again for every unchanged card
def card_key(spec: CardSpec) -> str:
    """Content hash of the spec, the renderer and the fonts and libraries that draw it."""
    fields = (spec.title, spec.campaign, spec.site, spec.color, spec.lang)
    digest = hashlib.sha256(json.dumps(fields).encode())
    digest.update(_renderer_identity().encode())
    return digest.hexdigest()[:16]


class CardCache:
    """Finished cards are kept where they are published: ``cards/<card_key>.png`` in the
    site's trees (``output/`` and the spare). A card whose key is found in one of
    ``folders`` is read, not drawn; ``rendered`` counts actual draws."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(folders)
        self.rendered = 0
        self._fonts: FontBook | None = None  # loaded only when something must be drawn

    def get(self, spec: CardSpec) -> bytes:
        """The card's PNG bytes: a finished copy when there is one, else drawn."""
        name = f"{card_key(spec)}.png"
        for folder in self.folders:
            try:
                data = (folder / name).read_bytes()
            except OSError:
                continue
            if data.startswith(SIGNATURE) and data.endswith(_PNG_END):  # not cut short
                return data
        if self._fonts is None:
            self._fonts = FontBook()
        self.rendered += 1
        return render_card(spec, self._fonts)


def draw_ahead(specs: Sequence[CardSpec], folder: Path) -> None:
    """Draw cards into ``folder`` as ``<card_key>.png``, in the order given, for the build
    to take (a head start: see ``build._ahead``). Each file appears whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    fonts = FontBook()
    for spec in specs:
        name = card_key(spec)
        part = folder / f"{name}.part"
        part.write_bytes(render_card(spec, fonts))
        part.replace(folder / f"{name}.png")


def _set_text(text: str, fonts: FontBook, lang: str, box: tuple[int, int, int, int],
              sizes: tuple[int, ...], max_lines: int, *, bold: bool = True) -> Block:
    left, right, top, bottom = box
    text = unicodedata.normalize("NFC", _SPACES.sub(" ", text).strip())
    chain = fonts.chain(lang, bold=bold)
    # Latin and its punctuation, all in the first face: each character is a cluster of that
    # face (what the general path finds, character by character), and a line is one run.
    simple = bool(_SIMPLE.fullmatch(text)) and fonts.covers(chain[0], text)
    if simple:
        clusters = list(text)
        items = [(ch, chain[0]) for ch in text]
    else:
        clusters = _clusters(text)
        items = _assign_faces(clusters, chain, fonts.cmaps)
    if len(items) < len(clusters):  # emoji, rare hanzi: better left out than drawn as boxes
        logger.info("card text %r: left out characters that no bundled font has", text)
    rtl = _paragraph_rtl([c for c, _ in items], lang)
    if rtl and not fonts.raqm:
        logger.warning("card text %r is right-to-left but Pillow has no raqm (libfribidi): "
                       "drawn without shaping", text)
    units = _simple_units(text, chain[0]) if simple else _break_units(items)
    tag = None if lang == "und" else lang
    factor = max((LINE_HEIGHT[f] for _, f in items), default=LINE_HEIGHT[LATIN])
    if simple:  # the words' widths, which wrapping measures too (and other cards did)
        natural = sum(_width(unit, fonts, sizes[0], tag, simple=True)
                      for unit in [*units[:-1], _trim(units[-1])]) if units else 0.0
    else:
        natural = _width(_trim(items), fonts, sizes[0], tag)
    natural /= sizes[0]  # one line, per px of size
    for size in sizes:
        line_height = size * factor
        fit = max(1, min(max_lines, int((bottom - top) // line_height)))
        # Wrapping only adds room, so a size whose one-line width (5 % slack for hinting)
        # exceeds all its lines together cannot fit: skip the costly wrap there.
        if natural * size > 1.05 * fit * (right - left) and size != sizes[-1]:
            continue
        lines = _wrap(units, fonts, size, tag, right - left, simple=simple)
        if len(lines) <= fit or size == sizes[-1]:
            break
    truncated = len(lines) > fit
    if truncated:
        lines = [*lines[:fit - 1], _with_ellipsis(lines[fit - 1], fonts, size, tag, right - left)]
    block_top = top + ((bottom - top) - len(lines) * line_height) / 2
    baselines = tuple(block_top + (i + 0.5) * line_height + size * 0.36 for i in range(len(lines)))
    placed = tuple(_place(line, fonts, size, tag, rtl, left, right, simple=simple and not rtl)
                   for line in lines)
    return Block(size, placed, baselines, truncated, tag, rtl)


def _draw_block(image: Image.Image, block: Block, fonts: FontBook, ink: int, dx: int = 0,
                blank: Callable[[int, int], bool] | None = None) -> tuple[int, int]:
    """Blend the block's text into the palette image, ``dx`` pixels to the right, as coverage
    towards index ``ink``; the rows drawn on (from, to), perhaps more. ``blank(top, bottom)``:
    whether those rows of the image are all index 0 (before anything is drawn)."""
    draw = ImageDraw.Draw(image)
    rows = (image.size[1], 0)
    drawn: list[tuple[int, int, int, int]] | None = [] if blank else None
    for line, baseline in zip(block.lines, block.baselines, strict=True):
        for run in line:
            if run.face in (LATIN, LATIN_REGULAR) and not run.rtl:
                top, bottom = _draw_words(image, run, fonts, block, round(baseline), ink, dx,
                                          blank, drawn)
                rows = (min(rows[0], top), max(rows[1], bottom))
                continue
            drawn = None  # shaped text, drawn where we do not track: blend from now on
            rows = (0, image.size[1])  # shaped text: not worth finding its box
            font = fonts.font(run.face, block.size)
            if fonts.raqm:
                draw.text((run.x + dx, baseline), run.text, fill=ink, font=font, anchor="ls",
                          direction="rtl" if run.rtl else "ltr", language=block.lang)
            else:  # no bidi engine: right-to-left runs are drawn reversed, unshaped
                text = "".join(reversed(_clusters(run.text))) if run.rtl else run.text
                draw.text((run.x + dx, baseline), text, fill=ink, font=font, anchor="ls")
    return rows


def _draw_words(image: Image.Image, run: Run, fonts: FontBook, block: Block, baseline: int,
                ink: int, dx: int, blank: Callable[[int, int], bool] | None,
                drawn: list[tuple[int, int, int, int]] | None) -> tuple[int, int]:
    """A left-to-right Latin run, word by word from the rasterised-word memo: words need no
    shaping across a space, and most headline words recur from card to card. A word whose
    box lies on blank rows and meets no box drawn before it (``drawn``, None: not known) is
    copied in already blended (``FontBook.word``), else blended through its mask: the same
    pixels either way, the copy ~3 times faster. The rows drawn on (from, to)."""
    x = run.x
    rows = (image.size[1], 0)
    width = image.size[0]
    for word in run.text.split(" "):
        if word:
            pen = (round(x) + dx, baseline)
            if blank is None or drawn is None:  # what lies under the word is not known
                box = _blend(image, fonts.mask(word, run.face, block.size), ink, pen)
            else:
                inked = fonts.word(word, run.face, block.size, ink)
                box = _box(inked, pen)
                if _on_blank(box, width, blank, drawn):
                    image.im.paste(inked[0].im, box)
                else:
                    _blend(image, fonts.mask(word, run.face, block.size), ink, pen)
                drawn.append(box)
            rows = (min(rows[0], box[1]), max(rows[1], box[3]))
        x += fonts.length(word + " ", run.face, block.size, rtl=False, lang=block.lang)
    return rows


def _blend(image: Image.Image, word: Word, ink: int, pen: tuple[int, int]
           ) -> tuple[int, int, int, int]:
    """Paste ``ink`` through the word's mask, its offset taken from ``pen``; the box."""
    box = _box(word, pen)
    image.paste(ink, box[:2], word[0])
    return box


def _box(word: Word, pen: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where the word's picture lies on the card with the pen at ``pen``: (x0, y0, x1, y1)."""
    picture, left, top = word
    x0, y0 = pen[0] + left, pen[1] + top
    return x0, y0, x0 + picture.size[0], y0 + picture.size[1]


def _on_blank(box: tuple[int, int, int, int], width: int, blank: Callable[[int, int], bool],
              drawn: list[tuple[int, int, int, int]]) -> bool:
    """Whether every pixel of ``box`` is still index 0: inside the image, on blank rows, and
    clear of every box drawn so far."""
    if box[0] < 0 or box[2] > width or not blank(box[1], box[3]):
        return False
    return not any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]
                   for b in drawn)


@functools.cache
def _blend_table(ink: int) -> tuple[int, ...]:
    """For each coverage 0-255, the index that pasting ``ink`` with it onto index 0 gives,
    asked of Pillow itself (its rounding, whatever its version)."""
    ramp = Image.new("P", (256, 1), 0)
    ramp.paste(ink, (0, 0), Image.frombytes("L", (256, 1), bytes(range(256))))
    return tuple(ramp.tobytes())


def _clusters(text: str) -> list[str]:
    """Approximate extended grapheme clusters: nothing ever breaks or truncates inside one."""
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        if out and (unicodedata.category(ch) in ("Mn", "Mc", "Me") or cp in _JOINERS
                    or ord(out[-1][-1]) == 0x200D or 0x1F3FB <= cp <= 0x1F3FF
                    or (0x1160 <= cp <= 0x11FF and 0x1100 <= ord(out[-1][-1]) <= 0x11FF)
                    or (0x1F1E6 <= cp <= 0x1F1FF and len(out[-1]) == 1
                        and 0x1F1E6 <= ord(out[-1]) <= 0x1F1FF)):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _assign_faces(clusters: list[str], chain: tuple[str, ...],
                  cmaps: dict[str, frozenset[int]]) -> list[Item]:
    """Each cluster with the first face that has all its characters; spaces and punctuation
    stay in the face before them so runs are not split needlessly. Unknown ones are dropped."""
    items: list[Item] = []
    for cluster in clusters:
        needed = [ord(ch) for ch in cluster if ord(ch) not in _JOINERS]
        neutral = unicodedata.category(cluster[0])[0] in "ZPS"
        order = ((items[-1][1], *chain) if neutral and items else chain)
        face = next((f for f in order if all(cp in cmaps[f] for cp in needed)), None)
        if face is not None:
            kept = "".join(ch for ch in cluster if ord(ch) in cmaps[face])
            if kept and not (kept == " " and (not items or items[-1][0] == " ")):
                items.append((kept, face))  # a dropped character leaves no double space
    return _trim(items)


def _paragraph_rtl(clusters: list[str], lang: str) -> bool:
    for cluster in clusters:
        kind = unicodedata.bidirectional(cluster[0])
        if kind in ("L", "R", "AL"):
            return kind != "L"
    return _primary(lang) in RTL_LANGS


def _is_cjk(cluster: str) -> bool:
    cp = ord(cluster[0])
    return (0x2E80 <= cp <= 0x30FF or 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF
            or 0xF900 <= cp <= 0xFAFF or 0xFF00 <= cp <= 0xFFEF or 0x20000 <= cp <= 0x3FFFF)


def _break_units(items: list[Item]) -> list[list[Item]]:
    """Split into unbreakable units; a unit keeps its trailing spaces. Breaks come after
    spaces, Ethiopic wordspaces and hyphens, and between CJK characters unless a closing
    mark follows or an opening one precedes."""
    units: list[list[Item]] = []
    for item in items:
        cluster = item[0]
        prev = units[-1][-1][0] if units else None
        spacey = cluster in _BREAK_SPACES
        if prev is None or (not spacey and (
                prev in _BREAK_AFTER
                or (prev in ("-", "\u2010") and cluster.isalnum() and len(units[-1]) > 1)
                or ((_is_cjk(cluster) or _is_cjk(prev)) and prev not in _BREAK_SPACES
                    and cluster not in _NO_BREAK_BEFORE and prev not in _NO_BREAK_AFTER))):
            units.append([item])
        else:
            units[-1].append(item)
    return units


def _simple_units(text: str, face: str) -> list[list[Item]]:
    """``_break_units`` of a simple text (see ``_set_text``): it has no CJK, no zero-width or
    Ethiopic spaces, so breaks come only after spaces and hyphens."""
    units: list[list[Item]] = []
    start = 0
    for i in range(1, len(text)):
        ch, prev = text[i], text[i - 1]
        if ch != " " and (prev == " " or (prev in "-\u2010" and ch.isalnum() and i - start > 1)):
            units.append([(c, face) for c in text[start:i]])
            start = i
    if text:
        units.append([(c, face) for c in text[start:]])
    return units


def _width(items: list[Item], fonts: FontBook, size: int, lang: str | None, *,
           simple: bool = False) -> float:
    """The advance width of ``items``; ``simple``: all in one face, left to right."""
    if simple:
        return fonts.length("".join(c for c, _ in items), items[0][1], size, rtl=False,
                            lang=lang) if items else 0.0
    return sum(fonts.length(text, face, size, rtl=rtl, lang=lang)
               for text, face, rtl in _runs(items, False))


def _wrap(units: list[list[Item]], fonts: FontBook, size: int, lang: str | None,
          max_width: float, *, simple: bool = False) -> list[list[Item]]:
    """Greedy fill; a unit wider than a line is split between grapheme clusters."""
    lines: list[list[Item]] = []
    line: list[Item] = []
    width = 0.0
    for whole in units:
        unit, core = whole, _trim(whole)
        core_width = _width(core, fonts, size, lang, simple=simple)
        if line and width + core_width > max_width:
            lines.append(_trim(line))
            line, width = [], 0.0
        while not line and core_width > max_width and len(core) > 1:
            cut = next(i for i in range(len(core) - 1, 0, -1)
                       if _width(core[:i], fonts, size, lang, simple=simple) <= max_width
                       or i == 1)
            lines.append(core[:cut])
            unit, core = unit[cut:], core[cut:]
            core_width = _width(core, fonts, size, lang, simple=simple)
        line.extend(unit)
        width += _width(unit, fonts, size, lang, simple=simple)
    if _trim(line):
        lines.append(_trim(line))
    return lines


def _trim(items: list[Item]) -> list[Item]:
    end = len(items)
    while end and items[end - 1][0] in _BREAK_SPACES:
        end -= 1
    return items[:end]


def _with_ellipsis(line: list[Item], fonts: FontBook, size: int, lang: str | None,
                   max_width: float) -> list[Item]:
    """The line cut so that "…" fits after it: at a word break if one is left, else between
    grapheme clusters."""
    units = _break_units(line)
    def too_wide(items: list[Item]) -> bool:
        return _width(_ellipsized(items, fonts), fonts, size, lang) > max_width

    while len(units) > 1 and too_wide(_flat(units)):
        units.pop()
    line = _flat(units)
    while len(line) > 1 and too_wide(line):
        line.pop()
    return _ellipsized(line, fonts)


def _ellipsized(line: list[Item], fonts: FontBook) -> list[Item]:
    end = len(line)
    while end and (line[end - 1][0] in _BREAK_SPACES
                   or unicodedata.category(line[end - 1][0][0]) in ("Po", "Pd", "Zs")):
        end -= 1
    face = line[end - 1][1] if end and ord(ELLIPSIS) in fonts.cmaps[line[end - 1][1]] else LATIN
    return [*line[:end], (ELLIPSIS, face)]


def _flat(units: list[list[Item]]) -> list[Item]:
    return [item for unit in units for item in unit]


def _levels(clusters: list[str], rtl: bool) -> list[int]:
    """Embedding levels by a small subset of the Unicode bidi algorithm (rules W2-W7, N1-N2,
    I1-I2), enough for Arabic with Latin words and numbers inside, and the reverse."""
    base = "R" if rtl else "L"
    kinds: list[str | None] = []
    strong = base
    for cluster in clusters:
        kind = unicodedata.bidirectional(cluster[0])
        if kind in ("R", "AL", "L"):
            strong = "L" if kind == "L" else "R"
            kinds.append(strong)
        elif kind in ("EN", "AN"):
            kinds.append("L" if kind == "EN" and strong == "L" else "N")
        else:
            kinds.append(None)
    for i, cluster in enumerate(clusters):  # "50%", "1,000": signs and separators join numbers
        kind = unicodedata.bidirectional(cluster[0])
        near = {kinds[j] for j in (i - 1, i + 1) if 0 <= j < len(kinds)}
        if kinds[i] is None and kind in ("ET", "CS", "ES") and near & {"N"}:
            kinds[i] = "N"
    resolved: list[str] = []
    for i, known in enumerate(kinds):
        if known is not None:
            resolved.append(known)
            continue
        # Numbers count as right-to-left for the neutrals between them (rule N1).
        before = next(("R" if k == "N" else k for k in reversed(kinds[:i]) if k), base)
        after = next(("R" if k == "N" else k for k in kinds[i + 1:] if k), base)
        resolved.append(before if before == after else base)
    table = {"L": 2, "R": 1, "N": 2} if rtl else {"L": 0, "R": 1, "N": 2}
    return [table[k] for k in resolved]


def _runs(items: list[Item], rtl: bool) -> list[tuple[str, str, bool]]:
    """Runs of one face and one level, in visual order (rule L2), as (text, face, rtl)."""
    if not rtl and not any(unicodedata.bidirectional(c[0]) in _RTL_CLASSES for c, _ in items):
        # Left-to-right text only: no reordering to do, a run per stretch of one face.
        return [("".join(c for c, _ in group), face, False)
                for face, group in itertools.groupby(items, key=operator.itemgetter(1))]
    levels = _levels([c for c, _ in items], rtl)
    runs: list[tuple[str, str, int]] = []
    for (cluster, face), level in zip(items, levels, strict=True):
        if runs and runs[-1][1] == face and runs[-1][2] == level:
            runs[-1] = (runs[-1][0] + cluster, face, level)
        else:
            runs.append((cluster, face, level))
    for level in range(max((r[2] for r in runs), default=0), 0, -1):
        i = 0
        while i < len(runs):
            j = i
            while j < len(runs) and runs[j][2] >= level:
                j += 1
            runs[i:j] = reversed(runs[i:j])
            i = j + 1
    return [(text, face, level % 2 == 1) for text, face, level in runs]


def _place(line: list[Item], fonts: FontBook, size: int, lang: str | None, rtl: bool,
           left: int, right: int, *, simple: bool = False) -> tuple[Run, ...]:
    if simple and line and line[-1][1] == line[0][1]:  # (an ellipsis may be in another face)
        # One run from the left margin, drawn word by word (``_draw_words``): its width is
        # those words' advances, measured while wrapping, not a new measure of the line.
        text, face = "".join(c for c, _ in line), line[0][1]
        words = text.split(" ")
        width = sum(fonts.length(word + " ", face, size, rtl=False, lang=lang)
                    for word in words[:-1]) + fonts.length(words[-1], face, size, rtl=False,
                                                           lang=lang)
        return (Run(text, face, False, float(left), width),)
    pieces = [(text, face, is_rtl, fonts.length(text, face, size, rtl=is_rtl, lang=lang))
              for text, face, is_rtl in _runs(line, rtl)]
    x = right - sum(p[3] for p in pieces) if rtl else float(left)
    placed = []
    for text, face, is_rtl, width in pieces:
        placed.append(Run(text, face, is_rtl, x, width))
        x += width
    return tuple(placed)


def _text_on(background: str) -> tuple[str, str]:
    """(background, text): ink or white, whichever contrasts more; darken until AA holds."""
    text = INK if contrast(INK, background) > contrast(WHITE, background) else WHITE
    if contrast(text, background) >= AA_TEXT:
        return background, text
    return readable_on(background, WHITE), WHITE


def _mix(a: str, b: str, amount: float) -> str:
    ca, cb = ImageColor.getrgb(a), ImageColor.getrgb(b)
    return _hex(tuple(round(x + (y - x) * amount) for x, y in zip(ca[:3], cb[:3], strict=True)))


def _hex(rgb: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def _primary(lang: str) -> str:
    return lang.replace("_", "-").split("-")[0].lower()


def _tables(data: bytes) -> dict[bytes, tuple[int, int]]:
    (count,) = struct.unpack_from(">H", data, 4)
    records = (struct.unpack_from(">4sLLL", data, 12 + 16 * i) for i in range(count))
    return {tag: (offset, length) for tag, _, offset, length in records}


def _read_cmap(path: Path) -> frozenset[int]:
    """Code points the font maps to a real glyph (cmap format 4 or 12, Unicode subtables)."""
    data = path.read_bytes()
    cmap, _ = _tables(data)[b"cmap"]
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables = {struct.unpack_from(">HH", data, cmap + 4 + 8 * i):
                 cmap + struct.unpack_from(">L", data, cmap + 8 + 8 * i)[0] for i in range(count)}
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] in (4, 12):
            at = subtables[key]
            break
    else:
        raise ValueError(f"{path}: no Unicode cmap of format 4 or 12")
    if struct.unpack_from(">H", data, at)[0] == 12:
        (groups,) = struct.unpack_from(">L", data, at + 12)
        spans = (struct.unpack_from(">LL", data, at + 16 + 12 * i) for i in range(groups))
        return frozenset(cp for start, end in spans for cp in range(start, end + 1))
    (seg2,) = struct.unpack_from(">H", data, at + 6)
    ends = struct.unpack_from(f">{seg2 // 2}H", data, at + 14)
    starts = struct.unpack_from(f">{seg2 // 2}H", data, at + 16 + seg2)
    deltas = struct.unpack_from(f">{seg2 // 2}h", data, at + 16 + 2 * seg2)
    range_at = at + 16 + 3 * seg2
    covered: set[int] = set()
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        (offset,) = struct.unpack_from(">H", data, range_at + 2 * i)
        for cp in range(start, end + 1):
            if offset:  # glyph ids come from glyphIdArray, addressed relative to this slot
                (glyph,) = struct.unpack_from(">H", data, range_at + 2 * i + offset
                                              + 2 * (cp - start))
            else:
                glyph = cp
            if glyph and (glyph + deltas[i]) % 65536 and cp != 0xFFFF:
                covered.add(cp)
    return frozenset(covered)


def _font_identity(path: Path) -> str:
    """Name, size and the head table's whole-file checksum: cheap, changes with any edit."""
    with path.open("rb") as handle:
        header = handle.read(12 + 16 * 64)
        head, _ = _tables(header)[b"head"]
        handle.seek(head)
        revision, checksum = struct.unpack(">4xLL", handle.read(12))
    return f"{path.name}:{path.stat().st_size}:{revision:08x}:{checksum:08x}"
