"""The banded PNG writer: its files decode, with every pixel and colour, in Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from generator.png import BAND_ROWS, PAD, Backdrop

PALETTE = [v for i in range(16) for v in (i * 16, 255 - i * 16, (i * 40) % 256)]


def backdrop_image(width: int = 301, height: int = 77) -> Image.Image:
    image = Image.new("P", (width, height), 0)
    image.putpalette(PALETTE)
    ImageDraw.Draw(image).rectangle((0, height - 20, width, height), fill=8)
    return image


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()  # Pillow checks each chunk's CRC and the zlib stream while loading
    return image


@pytest.mark.parametrize("rows", [(), (0,), (5, 40), tuple(range(0, 77, 3)), (76,)])
def test_decodes_to_the_same_pixels_whichever_rows_changed(rows: tuple[int, ...]) -> None:
    base = backdrop_image()
    backdrop = Backdrop(base)
    image = base.copy()
    for y in rows:
        for x in range(0, 301, 7):
            image.putpixel((x, y), (x + y) % 16)
    decoded = decode(backdrop.encode(image))
    assert (decoded.format, decoded.mode, decoded.size) == ("PNG", "P", (301, 77))
    assert decoded.tobytes() == image.tobytes()
    assert (decoded.getpalette() or [])[:48] == PALETTE
    # Told which rows changed (or more than those), it reads only their bands: same bytes.
    if rows:
        assert backdrop.encode(image, (min(rows), max(rows) + 1)) == backdrop.encode(image)
        assert backdrop.encode(image, (max(0, min(rows) - 9), 77)) == backdrop.encode(image)
    else:
        assert backdrop.encode(image, (77, 0)) == backdrop.encode(image)


def test_a_canvas_is_the_backdrop_padded_and_encodes_as_the_image_would() -> None:
    base = backdrop_image()
    backdrop = Backdrop(base)
    image, canvas = base.copy(), backdrop.canvas()
    assert canvas.size == (301 + PAD, 77) and canvas.getpalette() == base.getpalette()
    assert canvas.crop((PAD, 0, 301 + PAD, 77)).tobytes() == base.tobytes()
    ImageDraw.Draw(image).ellipse((-9, 20, 40, 60), fill=5)  # partly left of the image
    ImageDraw.Draw(canvas).ellipse((-9 + PAD, 20, 40 + PAD, 60), fill=5)
    data = backdrop.encode(canvas, (20, 61))
    assert data == backdrop.encode(image)
    assert decode(data).tobytes() == image.tobytes()


def idat(data: bytes) -> bytes:
    at = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[at - 4:at])
    return data[at + 4:at + 4 + length]


def shared_start(a: bytes, b: bytes) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def test_a_change_in_one_band_leaves_the_other_bands_bytes_as_they_were() -> None:
    base = backdrop_image(1200, 630)
    backdrop = Backdrop(base)
    image = base.copy()
    ImageDraw.Draw(image).rectangle((100, 10 * BAND_ROWS, 900, 11 * BAND_ROWS - 1), fill=7)
    changed, plain = idat(backdrop.encode(image)), idat(backdrop.encode(base))
    assert len(zlib.decompress(changed)) == 630 * (1 + 600)
    # Streamed deflate would differ from the change to the end; spliced bands do not.
    prefix = shared_start(changed, plain)
    suffix = shared_start(changed[-5::-1], plain[-5::-1])  # from the end, less Adler-32
    assert prefix + suffix > len(plain) - 200
    assert suffix > 100 and prefix > 20


def test_blank_rows_are_those_of_index_0_alone() -> None:
    image = backdrop_image()  # rows 57 to 76: the band, index 8
    image.putpixel((300, 10), 3)  # one pixel in the last column of row 10
    backdrop = Backdrop(image)
    assert backdrop.blank(0, 10) and backdrop.blank(11, 57) and backdrop.blank(30, 30)
    assert not backdrop.blank(9, 11) and not backdrop.blank(10, 11)
    assert not backdrop.blank(50, 58) and not backdrop.blank(60, 70)
    assert not backdrop.blank(-1, 5) and not backdrop.blank(70, 78)  # outside the image


def test_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="palette"):
        Backdrop(Image.new("RGB", (4, 4)))
    backdrop = Backdrop(backdrop_image())
    with pytest.raises(ValueError, match="size"):
        backdrop.encode(backdrop_image(10, 10))


def test_the_checksum_holds_wherever_the_changes_are() -> None:
    """The Adler-32 is put together from the backdrop's bands and the changed ones: zlib,
    which checks it, reads back every byte of every scanline."""
    import random

    rng = random.Random(3)
    base = backdrop_image(203, 130)
    backdrop = Backdrop(base)
    for _ in range(60):
        image = base.copy()
        top = rng.randrange(130)
        bottom = rng.randrange(top, 130)
        left = rng.randrange(203)
        ImageDraw.Draw(image).rectangle((left, top, rng.randrange(left, 203), bottom),
                                        fill=rng.randrange(16))
        data = backdrop.encode(image)
        at = data.index(b"IDAT")
        length = struct.unpack(">I", data[at - 4:at])[0]
        raw = zlib.decompress(data[at + 4:at + 4 + length])  # raises on a wrong checksum
        stride = 1 + (203 + 1) // 2
        assert len(raw) == stride * 130
        assert decode(data).tobytes() == image.tobytes()


def test_each_backdrop_band_decodes_on_its_own() -> None:
    """A card puts its own compressed rows before the backdrop's bands that follow them, so
    a band may refer to nothing before it; and its bytes then depend on its rows alone."""
    image = backdrop_image(301, 77)
    ImageDraw.Draw(image).text((3, 3), "repeat repeat repeat", fill=3)
    for y in range(0, 77, 2):  # rows alike across band edges, which a compressor would reuse
        ImageDraw.Draw(image).line((0, y, 300, y), fill=5)
    backdrop = Backdrop(image)
    size = backdrop._band
    for n, packed in enumerate(backdrop._packed):
        rows = backdrop._plain[n * size:(n + 1) * size]
        assert zlib.decompressobj(-15).decompress(packed) == rows, n
        assert packed == Backdrop(image)._packed[n]
