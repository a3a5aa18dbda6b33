"""The broadcast's pictures and sound, live: the chosen camera's VP8 decoded, the audible
microphones' Opus decoded into short buffers, and both composed, mixed and encoded on the
broadcast's own clock into HLS (H.264 + AAC in fMP4 segments and a rolling playlist).

The picture is drawn by the publishable video's :class:`Canvas` (letterboxing, the slate, the
caption band) and the sound mixed by its :class:`Mixer` (the audible spans summed, with a fade
where one starts or ends): here a span starts when a microphone becomes audible and ends when
it stops, and each microphone's "track" is the buffer of what it sent last.

FFmpeg's HLS muxer writes whole segments only (no low-latency parts): a segment is one second,
one keyframe each, so the stream is listed about a second and a half after it is filmed.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from gikai.media.archive.render.audio import AUDIO_CHUNK, SAMPLE_RATE, Mixer
from gikai.media.archive.render.canvas import Canvas
from gikai.media.archive.render.plan import AudioSpan

logger = logging.getLogger(__name__)

SEGMENT_SECONDS = 1
LIST_SIZE = 6  # segments listed in the rolling playlist (older ones are deleted)
MAX_BUFFER = 0.4  # seconds of a microphone's sound kept; older samples are dropped (bounded delay)
PREBUFFER = 0.06  # seconds gathered after an underrun before a microphone is heard again
FOREVER = float("inf")


class LiveSound:
    """One microphone's decoded sound, as the mixer reads it: the oldest samples first."""

    def __init__(self) -> None:
        self.decoder: Any = av.CodecContext.create("opus", "r")
        self.resampler: Any = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self.chunks: deque[np.ndarray] = deque()  # 2 x n float32 each
        self.buffered = 0
        self.waiting = True  # after an underrun: silent until PREBUFFER is gathered

    def add(self, data: bytes) -> None:
        try:
            decoded = self.decoder.decode(av.Packet(data))
        except av.FFmpegError:
            return  # a damaged packet is a moment of silence
        for piece in decoded:
            for frame in self.resampler.resample(piece):
                samples = frame.to_ndarray()
                self.chunks.append(samples)
                self.buffered += samples.shape[1]
        while self.buffered > MAX_BUFFER * SAMPLE_RATE and len(self.chunks) > 1:
            self.buffered -= self.chunks.popleft().shape[1]

    def read(self, s0: int, s1: int) -> np.ndarray:
        out = np.zeros((2, s1 - s0), dtype=np.float32)
        if self.waiting and self.buffered < PREBUFFER * SAMPLE_RATE:
            return out
        self.waiting = False
        done = 0
        while done < out.shape[1] and self.chunks:
            chunk = self.chunks[0]
            n = min(chunk.shape[1], out.shape[1] - done)
            out[:, done:done + n] = chunk[:, :n]
            done += n
            self.buffered -= n
            if n == chunk.shape[1]:
                self.chunks.popleft()
            else:
                self.chunks[0] = chunk[:, n:]
        if done < out.shape[1]:
            self.waiting = True
        return out


class LivePicture:
    """One camera's decoder; its latest picture, composed once for the canvas."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.decoder: Any = av.CodecContext.create("vp8", "r")
        self.started = False  # a decoder starts at a keyframe
        self.frame: Any = None
        self.image: np.ndarray | None = None
        self.captured = 0.0  # time.monotonic() when the latest picture was filmed (reached the SFU)

    def add(self, data: bytes, keyframe: bool, captured: float) -> bool:
        """Decode a frame; False when the decoder needs a keyframe to go on."""
        if not (self.started or keyframe):
            return False
        try:
            frames = self.decoder.decode(av.Packet(data))
        except av.FFmpegError:
            self.started = False
            return False
        self.started = True
        if frames:
            self.frame, self.image, self.captured = frames[-1], None, captured
        return True

    def picture(self) -> np.ndarray | None:
        if self.image is None and self.frame is not None:
            self.image = self.canvas.picture(self.frame)
        return self.image


class LiveEncoder:
    """Composes, mixes and encodes one frame per :meth:`tick` into ``folder/index.m3u8``."""

    def __init__(self, folder: Path, width: int = 640, height: int = 360, fps: int = 15,
                 font: Path | None = None) -> None:
        self.folder, self.fps = folder, fps
        folder.mkdir(parents=True, exist_ok=True)
        for old in [*folder.glob("*.m4s"), *folder.glob("*.mp4"), *folder.glob("*.m3u8"), *folder.glob("*.tmp")]:
            old.unlink(missing_ok=True)  # a previous run's segments are not this stream
        self.canvas = Canvas(width, height, font)
        self.pictures: dict[str, LivePicture] = {}
        self.sounds: dict[str, LiveSound] = {}
        self.spans: list[AudioSpan] = []
        self.mixer = Mixer(self.spans, self.sounds, 1 << 62)
        self.shown: str | None = None
        self.lines: tuple[str, ...] = ()
        self.frames = 0
        self.container, self.video_out, self.audio_out = _open_hls(folder, width, height, fps)

    # -- what to show, and what arrives -----------------------------------------------------
    def show(self, video: str | None, audio: Sequence[str], lines: Sequence[str]) -> None:
        now = self.mixer.done / SAMPLE_RATE
        heard = {span.key for span in self.spans if span.end == FOREVER}
        for i, span in enumerate(self.spans):
            if span.end == FOREVER and span.key not in audio:
                self.spans[i] = span._replace(end=now)
        for key in audio:
            if key not in heard:
                self.sounds.setdefault(key, LiveSound())
                self.spans.append(AudioSpan(now, FOREVER, key))
        if video != self.shown:
            self.pictures = {video: LivePicture(self.canvas)} if video is not None else {}
            self.shown = video
        self.lines = tuple(lines)

    def video(self, key: str, data: bytes, keyframe: bool, captured: float) -> bool:
        picture = self.pictures.get(key)
        return picture.add(data, keyframe, captured) if picture is not None else True

    def audio(self, key: str, data: bytes) -> None:
        if any(span.key == key and span.end == FOREVER for span in self.spans):
            self.sounds[key].add(data)

    # -- one output frame --------------------------------------------------------------------
    def tick(self, index: int | None = None) -> None:
        """Encode output frame ``index`` (the next one by default; a later one skips frames a
        busy machine could not make in time) and the sound up to its end."""
        i = self.frames if index is None else max(index, self.frames)
        picture = self.pictures.get(self.shown) if self.shown is not None else None
        image = picture.picture() if picture is not None else None
        if image is None:
            image = self.canvas.slate
        if self.lines and self.canvas.font is not None:
            image = self.canvas.with_caption(image, self.lines)
        frame = av.VideoFrame.from_ndarray(image.reshape(-1, self.canvas.width), format="yuv420p")
        frame.pts, frame.time_base = i, Fraction(1, self.fps)
        self.container.mux(self.video_out.encode(frame))
        target = round((i + 1) / self.fps * SAMPLE_RATE) // AUDIO_CHUNK * AUDIO_CHUNK
        for sound in self.mixer.frames_until(target):
            self.container.mux(self.audio_out.encode(sound))
        self.frames = i + 1
        self._forget()

    def _forget(self) -> None:
        """Spans over before the mixer's position, and microphones no span needs any more."""
        done = self.mixer.done / SAMPLE_RATE
        self.spans[:] = [s for s in self.spans if s.end > done - 1]
        needed = {s.key for s in self.spans}
        for key in [k for k in self.sounds if k not in needed]:
            del self.sounds[key]

    def close(self) -> None:
        """Write the last frames and end the playlist (#EXT-X-ENDLIST)."""
        try:
            self.container.mux(self.video_out.encode(None))
            self.container.mux(self.audio_out.encode(None))
        finally:
            self.container.close()


def _open_hls(folder: Path, width: int, height: int, fps: int) -> tuple[Any, Any, Any]:
    run = f"{time.time_ns() // 1_000_000:x}"
    container = av.open(str(folder / "index.m3u8"), "w", format="hls", options={
        "hls_time": str(SEGMENT_SECONDS), "hls_list_size": str(LIST_SIZE), "hls_segment_type": "fmp4",
        # Names of this run only: a CDN that cached a segment of an earlier run never serves it again.
        "hls_fmp4_init_filename": f"init-{run}.mp4", "hls_segment_filename": str(folder / f"seg-{run}-%06d.m4s"),
        # temp_file: a segment and the playlist appear whole (written aside, then renamed)
        "hls_flags": "delete_segments+independent_segments+temp_file+program_date_time"})
    # ultrafast + zerolatency: no lookahead, no B-frames; constrained baseline, level 3.0, so that
    # a player can name the codec (avc1.42C01E) before it has read the stream. A keyframe per
    # segment: every segment starts one.
    video = container.add_stream("libx264", rate=fps, options={
        "preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "level": "3.0",
        "crf": "26", "maxrate": "1200k", "bufsize": "1200k", "threads": "1",
        "x264-params": f"keyint={fps * SEGMENT_SECONDS}:min-keyint={fps * SEGMENT_SECONDS}:scenecut=0"})
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.codec_context.time_base = Fraction(1, fps)
    audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
    audio.bit_rate = 96000
    return container, video, audio

