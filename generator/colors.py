"""Colour arithmetic for accessible accents (WCAG 2.1 relative luminance and contrast)."""

from __future__ import annotations

import functools

AA_TEXT = 4.5


def _rgb(color: str) -> tuple[int, int, int]:
    hex_part = color.lstrip("#")
    if len(hex_part) == 3:
        hex_part = "".join(c * 2 for c in hex_part)
    return int(hex_part[0:2], 16), int(hex_part[2:4], 16), int(hex_part[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


@functools.lru_cache(maxsize=1024)
def luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(color: str, toward: str, amount: float) -> str:
    c, t = _rgb(color), _rgb(toward)
    return _hex(tuple(ci + (ti - ci) * amount for ci, ti in zip(c, t, strict=True)))  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1024)  # pages ask for the same few campaign colours again and again
def readable_on(color: str, background: str, ratio: float = AA_TEXT) -> str:
    """``color``, darkened or lightened just enough to reach ``ratio`` against ``background``."""
    target = "#000000" if luminance(background) > 0.18 else "#ffffff"
    for step in range(0, 101, 2):
        candidate = _mix(color, target, step / 100)
        if contrast(candidate, background) >= ratio:
            return candidate
    return target
