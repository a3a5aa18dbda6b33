"""The output's pictures, composed in YUV 4:2:0 (no RGB round trip): the slate shown when nobody's
picture is, a source frame scaled to fit and letterboxed, and the current caption blended in."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from gikai.media.archive.render.captions import CaptionBand, yuv

SLATE_RGB = (40, 44, 52)  # the neutral picture shown when nobody's picture is


class Canvas:
    """Output-sized YUV 4:2:0 pictures: the slate, letterboxed frames, captions."""

    def __init__(self, width: int, height: int, font: Path | None) -> None:
        self.width, self.height, self.font = width, height, font
        self.band: tuple[tuple[str, ...], CaptionBand] | None = None  # the current caption only
        y, u, v = yuv(*SLATE_RGB)
        self.slate = self.blank((round(y), round(u), round(v)))

    def blank(self, colour: tuple[int, int, int] = (16, 128, 128)) -> np.ndarray:
        w, h = self.width, self.height
        flat = np.empty(w * h * 3 // 2, dtype=np.uint8)
        flat[:w * h], flat[w * h:w * h * 5 // 4], flat[w * h * 5 // 4:] = colour
        return flat

    def planes(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, h = self.width, self.height
        return (flat[:w * h].reshape(h, w), flat[w * h:w * h * 5 // 4].reshape(h // 2, w // 2),
                flat[w * h * 5 // 4:].reshape(h // 2, w // 2))

    def picture(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame scaled to fit, keeping its aspect, centred on black."""
        scale = min(self.width / frame.width, self.height / frame.height)
        w = min(self.width, max(2, round(frame.width * scale / 2) * 2))
        h = min(self.height, max(2, round(frame.height * scale / 2) * 2))
        image = frame.reformat(width=w, height=h, format="yuv420p")
        if (w, h) == (self.width, self.height):
            return image.to_ndarray().reshape(-1)
        flat = self.blank()
        x, y = (self.width - w) // 4 * 2, (self.height - h) // 4 * 2
        for plane, source, d in zip(self.planes(flat), _planes(image), (1, 2, 2), strict=True):
            plane[y // d:(y + h) // d, x // d:(x + w) // d] = source
        return flat

    def with_caption(self, flat: np.ndarray, lines: tuple[str, ...]) -> np.ndarray:
        if self.band is None or self.band[0] != lines:
            assert self.font is not None
            self.band = (lines, CaptionBand(lines, self.width, self.height, self.font))
        flat = flat.copy()
        self.band[1].apply(self.planes(flat))
        return flat


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    out = []
    for plane, d in zip(frame.planes, (1, 2, 2), strict=True):
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        out.append(rows[:frame.height // d, :frame.width // d])
    return out

