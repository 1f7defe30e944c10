"""A writer for 16-colour palette PNGs that differ from a shared backdrop in a few rows.

Every share card of a campaign has the same colours, campaign line and band; only the
headline's rows change. ``Backdrop`` compresses the backdrop once, in bands of rows that
each end with a zlib full flush (so a band's compressed bytes depend on its rows alone);
``Backdrop.encode`` then deflates only the bands an image changed and splices in the rest.
The result is an ordinary PNG (IHDR, PLTE, one IDAT, IEND) that any decoder reads. Pillow
writes the same pixels but deflates every row of every card, about twice the time here.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAND_ROWS = 16
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KB window, fastest level; (0x7801 % 31 == 0)


class Backdrop:
    """A palette image (at most 16 colours) whose row bands are kept compressed."""

    def __init__(self, image: Image.Image) -> None:
        if image.mode != "P":
            raise ValueError(f"a backdrop must be a palette image, got mode {image.mode}")
        self.image = image
        self.size = image.size
        palette = image.getpalette() or []
        if len(palette) > 48:
            raise ValueError("a backdrop has at most 16 colours")
        self._head = _chunk(b"IHDR", struct.pack(">IIBBBBB", *image.size, 4, 3, 0, 0, 0))
        self._head += _chunk(b"PLTE", bytes(palette))
        self._bands = _bands(image)
        packer = _packer()
        self._packed = [packer.compress(band) + packer.flush(zlib.Z_FULL_FLUSH)
                        for band in self._bands]

    def encode(self, image: Image.Image) -> bytes:
        """``image`` (same size and palette as the backdrop) as PNG bytes."""
        if image.size != self.size or image.mode != "P":
            raise ValueError("the image must match the backdrop's size and mode")
        packer = _packer()
        body = []
        adler = 1
        for band, plain, packed in zip(_bands(image), self._bands, self._packed, strict=True):
            adler = zlib.adler32(band, adler)
            body.append(packed if band == plain
                        else packer.compress(band) + packer.flush(zlib.Z_FULL_FLUSH))
        body.append(packer.flush(zlib.Z_FINISH))
        data = _ZLIB_HEADER + b"".join(body) + struct.pack(">I", adler)
        return SIGNATURE + self._head + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _packer() -> zlib._Compress:
    # Raw deflate, run-length matches only: a card is long runs of one colour.
    return zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_RLE)


def _bands(image: Image.Image) -> list[bytes]:
    """PNG scanlines (filter byte 0, two pixels a byte), grouped ``BAND_ROWS`` at a time."""
    width, height = image.size
    stride = (width + 1) // 2
    packed = image.tobytes("raw", "P;4")
    rows = [b"\0" + packed[i:i + stride] for i in range(0, stride * height, stride)]
    return [b"".join(rows[i:i + BAND_ROWS]) for i in range(0, height, BAND_ROWS)]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(kind)))
