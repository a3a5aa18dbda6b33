"""A publishable video of a sitting: one MP4 (H.264 + AAC) that follows the floor, captioned.

Offline. The caller (who knows the sitting) says in a :class:`RenderPlan` whose picture to show
when, whose sound was audible when, and which caption lines to print; :func:`render` writes it.

- ``plan``: the plan, its spans and source files, the result, the errors
- ``sources``: the recorder's segment files opened and decoded, the picture showing at a time
- ``canvas``: output pictures in YUV 4:2:0 (slate, letterboxing, the caption blended in)
- ``captions``: a font with Japanese glyphs, and the caption band
- ``audio``: the audible spans decoded, resampled and mixed
- ``job``: :func:`render`, the loop that composes, encodes and muxes frame by frame
"""

from gikai.media.archive.render.captions import find_caption_font
from gikai.media.archive.render.job import render
from gikai.media.archive.render.plan import (
    AudioSpan,
    Caption,
    CaptionFontMissing,
    RenderCancelled,
    RenderError,
    RenderPlan,
    RenderResult,
    Shot,
    SourceFile,
    SourceProblem,
    sources_from_manifest,
)

__all__ = [
    "AudioSpan", "Caption", "CaptionFontMissing", "RenderCancelled", "RenderError", "RenderPlan",
    "RenderResult", "Shot", "SourceFile", "SourceProblem", "find_caption_font", "render",
    "sources_from_manifest",
]
