"""Reading an HLS stream as a player would: the playlist, then each fMP4 segment after the
init segment, decoded with ``av``; what a segment shows (its pictures' mean colour above the
caption band) and sounds like (the level of a few tones)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import av
import numpy as np

PICTURE_ROWS = slice(20, 200)  # of a 360-row picture: above any caption band


@dataclass(frozen=True)
class Playlist:
    init: str | None
    segments: list[str]
    sequence: int  # media sequence number of the first segment listed
    ended: bool


def parse_playlist(text: str) -> Playlist:
    assert text.startswith("#EXTM3U"), text[:80]
    init, segments, sequence = None, [], 0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            init = line.split('URI="', 1)[1].split('"', 1)[0]
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line and not line.startswith("#"):
            segments.append(line)
    return Playlist(init, segments, sequence, "#EXT-X-ENDLIST" in text)


@dataclass(frozen=True)
class Segment:
    name: str
    colours: list[tuple[float, float, float]]  # mean RGB above the caption band, per picture
    tones: dict[float, float]  # Hz -> the share of the segment's sound energy near it
    loudness: float  # RMS of the sound
    codecs: tuple[str, ...]


def decode_segment(name: str, init: bytes, data: bytes, tones: Iterable[float] = (440.0, 660.0, 880.0)) -> Segment:
    colours: list[tuple[float, float, float]] = []
    sound: list[np.ndarray] = []
    with av.open(io.BytesIO(init + data), format="mp4") as container:
        codecs = tuple(sorted(s.codec_context.name for s in container.streams))
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                rgb = frame.to_ndarray(format="rgb24")[PICTURE_ROWS]
                colours.append(tuple(float(c) for c in rgb.reshape(-1, 3).mean(axis=0)))  # type: ignore[arg-type]
            elif isinstance(frame, av.AudioFrame):
                sound.append(frame.to_ndarray().mean(axis=0))
    pcm = np.concatenate(sound) if sound else np.zeros(1)
    spectrum = np.abs(np.fft.rfft(pcm)) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / 48000)
    total = float(spectrum.sum()) or 1.0
    share = {hz: float(spectrum[np.abs(freqs - hz) < 15].sum()) / total for hz in tones}
    return Segment(name, colours, share, float(np.sqrt(np.mean(pcm ** 2))), codecs)


def closest(colour: tuple[float, float, float], palette: dict[str, tuple[int, int, int]]) -> str:
    return min(palette, key=lambda k: sum((a - b) ** 2 for a, b in zip(colour, palette[k], strict=True)))


def shows(segment: Segment, palette: dict[str, tuple[int, int, int]]) -> str | None:
    """The palette's name every picture of the segment shows, or None when they differ."""
    names = {closest(c, palette) for c in segment.colours}
    return names.pop() if len(names) == 1 else None


def heard(segment: Segment, palette_tones: dict[str, float], share: float = 0.05) -> set[str]:
    """Whose tones are in the segment's sound."""
    return {name for name, hz in palette_tones.items() if segment.tones.get(hz, 0.0) >= share}


Fetch = Callable[[str], bytes]
