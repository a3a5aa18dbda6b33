"""Captions: finding a font with Japanese glyphs, and drawing a caption band to blend into
YUV 4:2:0 pictures.

The band is drawn once per caption with Pillow and kept pre-multiplied in YUV, so that a frame
under a caption costs one multiply-add per plane, no RGB round trip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gikai.media.archive.render.plan import CaptionFontMissing

BAND_ALPHA = 0.65  # the caption band darkens what is under it this much
FONT_ENV = "GIKAI_CAPTION_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
)


def find_caption_font() -> Path:
    """A font with Japanese glyphs: $GIKAI_CAPTION_FONT, then known paths, then fc-match."""
    tried: list[str] = []
    candidates = [os.environ.get(FONT_ENV, ""), *FONT_CANDIDATES]
    for candidate in candidates:
        if candidate and candidate not in tried:
            tried.append(candidate)
            if has_japanese(candidate):
                return Path(candidate)
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=ja"], capture_output=True,
                                   text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and has_japanese(found):
            return Path(found)
        tried.append(f"fc-match :lang=ja ({found or 'nothing'})")
    raise CaptionFontMissing(
        "no font with Japanese glyphs for the captions; tried " + ", ".join(tried)
        + f". Install fonts-ipafont-gothic or name a font file in ${FONT_ENV}.")


@lru_cache(maxsize=16)
def has_japanese(path: str) -> bool:
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype(path, 24)
    except (OSError, ValueError):
        return False

    def drawn(text: str) -> bytes:
        image = Image.new("L", (32, 32))
        ImageDraw.Draw(image).text((2, 2), text, font=font, fill=255)
        return image.tobytes()

    # A missing glyph draws as the font's .notdef box, as an unassigned code point does.
    return drawn("議") not in (bytes(32 * 32), drawn("\U000f0000"))


class CaptionBand:
    """A caption band, pre-multiplied in YUV 4:2:0, to blend over the bottom of a picture."""

    def __init__(self, lines: Sequence[str], width: int, height: int, font_path: Path) -> None:
        from PIL import Image, ImageDraw, ImageFont

        sizes = [round(height * (0.065 if i == 0 else 0.05)) for i in range(len(lines))]
        pad, left = round(height * 0.025), round(width * 0.04)
        steps = [round(size * 1.3) for size in sizes]
        band_height = min(height, (2 * pad + sum(steps) + 1) // 2 * 2)
        image = Image.new("RGBA", (width, band_height), (0, 0, 0, round(255 * BAND_ALPHA)))
        draw = ImageDraw.Draw(image)
        y = pad
        for line, size, step in zip(lines, sizes, steps, strict=True):
            font = ImageFont.truetype(str(font_path), size)
            draw.text((left, y + (step - size) // 2), _fit(line, font, width - 2 * left),
                      font=font, fill=(255, 255, 255, 255))
            y += step
        rgba = np.asarray(image, dtype=np.float32)
        alpha = rgba[..., 3] / 255
        planes = yuv(rgba[..., 0], rgba[..., 1], rgba[..., 2])
        half_alpha = halve(alpha)
        self.keep = (1 - alpha, 1 - half_alpha, 1 - half_alpha)
        self.add = (planes[0] * alpha + 0.5, halve(planes[1] * alpha) + 0.5,
                    halve(planes[2] * alpha) + 0.5)

    def apply(self, planes: Sequence[np.ndarray]) -> None:
        for plane, keep, add in zip(planes, self.keep, self.add, strict=True):
            region = plane[plane.shape[0] - keep.shape[0]:]
            region[:] = region * keep + add


def yuv(r: Any, g: Any, b: Any) -> tuple[Any, Any, Any]:
    """BT.601 limited range, as swscale converts yuv420p (and players show it) by default."""
    return (16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255,
            128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255,
            128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)


def halve(a: np.ndarray) -> np.ndarray:
    return np.asarray((a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) / 4)


def _fit(text: str, font: Any, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"

