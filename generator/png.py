"""A writer for 16-colour palette PNGs that differ from a shared backdrop in a few rows.

Every share card of a campaign has the same colours, campaign line and band; only the
headline's rows change. ``Backdrop`` compresses the backdrop once, in bands of rows, each
band by a fresh compressor ending with a full flush: a band's compressed bytes depend on its
rows alone and refer to nothing before them. Cards are drawn on ``Backdrop.canvas()``, the
backdrop with two columns of index 0 on the left: packed two pixels a byte, those make each
row's PNG filter byte, so a row's scanline is the canvas's own bytes, read in one C call.
``Backdrop.encode`` finds the rows an image changed, compresses their bands together the
same way and splices in the backdrop's other bands; the checksum is put together from the
bands' own. The result is an ordinary PNG (IHDR, PLTE, one IDAT, IEND) that any decoder
reads. Pillow writes the same pixels but deflates every row of every card with zlib, several
times slower. A card's own rows are deflated by zlib-ng (``zlib_ng``) at its fastest level,
several times the standard zlib's speed; the backdrop's bands, packed once a campaign, by the
standard zlib at its default level. Both give bytes that depend on the rows alone (see
``_fast``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any

from PIL import Image
from zlib_ng import zlib_ng

SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAND_ROWS = 16
PAD = 2  # columns of index 0 left of the image on a canvas: each row's filter byte (0, none)
_ADLER_BASE = 65521
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KB window, fastest level; (0x7801 % 31 == 0)


class Backdrop:
    """A palette image (at most 16 colours) whose row bands are kept compressed."""

    def __init__(self, image: Image.Image) -> None:
        if image.mode != "P":
            raise ValueError(f"a backdrop must be a palette image, got mode {image.mode}")
        self.size = image.size
        palette = image.getpalette() or []
        if len(palette) > 48:
            raise ValueError("a backdrop has at most 16 colours")
        self._head = _chunk(b"IHDR", struct.pack(">IIBBBBB", *image.size, 4, 3, 0, 0, 0))
        self._head += _chunk(b"PLTE", bytes(palette))
        self._canvas = _padded(image)
        self._plain = _scanlines(self._canvas, 0, image.size[1])
        row = 1 + (image.size[0] + 1) // 2  # bytes in a scanline
        self._band = row * BAND_ROWS  # bytes in a band
        # How many rows before each row hold anything but index 0 (see ``blank``).
        self._inked = [0]
        for y in range(image.size[1]):
            self._inked.append(self._inked[-1] + (self._plain.count(0, y * row, y * row + row)
                                                  != row))
        bands = [self._plain[i:i + self._band] for i in range(0, len(self._plain), self._band)]
        self._packed = [_pack(band, _thorough) for band in bands]
        # Checksums of the first k bands, and of the bands from k on, with their lengths.
        self._before = [1]
        for band in bands:
            self._before.append(zlib_ng.adler32(band, self._before[-1]))
        self._after = [(1, 0)]
        for band in reversed(bands):
            adler, length = self._after[0]
            self._after.insert(0, (_adler_combine(zlib_ng.adler32(band), adler, length),
                                   len(band) + length))

    def blank(self, top: int, bottom: int) -> bool:
        """Whether rows ``top`` to ``bottom`` (not included) are inside the image and all
        index 0."""
        return 0 <= top <= bottom <= self.size[1] and self._inked[bottom] == self._inked[top]

    def canvas(self) -> Image.Image:
        """A copy of the backdrop to draw on, ``PAD`` columns wider: the image's pixel (x, y)
        is the canvas's (x + PAD, y). Whatever is drawn left of x = 0 is lost, as it would be
        on the image."""
        return self._canvas.copy()

    def encode(self, image: Image.Image, rows: tuple[int, int] | None = None) -> bytes:
        """``image`` (same size and palette as the backdrop, or drawn on its ``canvas()``)
        as PNG bytes; ``rows``: the only rows (from, to) where it may differ from the
        backdrop, if known. A canvas's ``PAD`` columns are set back to index 0."""
        if image.mode != "P" or image.size not in (self.size, self._canvas.size):
            raise ValueError("the image must match the backdrop's size and mode")
        if image.size == self.size:
            image = _padded(image)
        else:
            image.paste(0, (0, 0, PAD, self.size[1]))
        height, plain, band = self.size[1], self._plain, self._band
        # Only the bands that hold changed rows are read from the image and compared.
        first, end = 0, -(-height // BAND_ROWS)
        if rows is not None:
            first, end = max(0, rows[0]) // BAND_ROWS, max(0, min(end, -(-rows[1] // BAND_ROWS)))
        first = min(first, end)
        lines = _scanlines(image, first * BAND_ROWS, min(height, end * BAND_ROWS))
        offset = first * band

        def same(k: int) -> bool:
            start = k * band
            return lines[start - offset:start + band - offset] == plain[start:start + band]

        while first < end and same(first):
            first += 1
        while end > first and same(end - 1):
            end -= 1
        # The bands the image changed are compressed together; the rest are spliced in.
        changed = lines[first * band - offset:end * band - offset]
        middle = _pack(changed) if changed else b""
        adler = zlib_ng.adler32(changed, self._before[first])
        adler = _adler_combine(adler, *self._after[max(first, end)])
        data = b"".join((_ZLIB_HEADER, *self._packed[:first], middle, *self._packed[end:],
                         _FINISH, struct.pack(">I", adler)))
        return SIGNATURE + self._head + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _adler_combine(first: int, second: int, length: int) -> int:
    """The Adler-32 of two byte strings one after the other, from each one's checksum and
    the second's length (the sums are 1 + the bytes, and the sum of those running sums)."""
    s1 = ((first & 0xFFFF) + (second & 0xFFFF) - 1) % _ADLER_BASE
    s2 = ((first >> 16) + (second >> 16) + length * ((first & 0xFFFF) - 1)) % _ADLER_BASE
    return (s2 << 16) | s1


def _fast() -> Any:
    """For each card's own rows: raw deflate by zlib-ng at its fastest level, ~4x the
    standard zlib's speed on a card's rows. Not ISA-L (``isal``), which was ~1.5x faster
    still: its bytes for the same rows were seen to differ from one build to another, now
    and then (a match that reached back to an equal run of bytes at another distance), so
    a clean build did not always give the same cards."""
    return zlib_ng.compressobj(1, zlib_ng.DEFLATED, -15)


def _thorough() -> Any:
    """For a backdrop's bands, packed once a campaign: raw deflate by zlib at its default
    level: smaller than ``_fast``'s, for bands that every card of the campaign carries."""
    return zlib.compressobj(6, zlib.DEFLATED, -15)


def _pack(rows: bytes, packer: Callable[[], Any] = _fast) -> bytes:
    """Rows as deflate blocks of their own: a fresh compressor (no history to refer back
    to, no state left by other bands) ending with a full flush on a byte boundary, so such
    blocks can be put one after another in any combination."""
    compressor = packer()
    return bytes(compressor.compress(rows) + compressor.flush(zlib.Z_FULL_FLUSH))


_FINISH = _fast().flush(zlib_ng.Z_FINISH)  # the final, empty block


def _padded(image: Image.Image) -> Image.Image:
    """The image on a canvas ``PAD`` columns of index 0 wider, with its palette."""
    canvas = Image.new("P", (image.size[0] + PAD, image.size[1]), 0)
    canvas.paste(image, (PAD, 0))
    canvas.putpalette(image.getpalette() or [])
    return canvas


def _scanlines(canvas: Image.Image, top: int, bottom: int) -> bytes:
    """PNG scanlines of a canvas's rows ``top`` to ``bottom``: each a filter byte 0 (the
    pad's two pixels), then two pixels a byte."""
    if bottom <= top:
        return b""
    whole = top == 0 and bottom == canvas.size[1]
    return (canvas if whole else canvas.crop((0, top, canvas.size[0], bottom))).tobytes(
        "raw", "P;4")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib_ng.crc32(data, zlib_ng.crc32(kind)))
