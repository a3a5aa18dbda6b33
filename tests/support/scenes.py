"""Camera and microphone scenes for presence tests, generated (nothing downloaded).

A face: scikit-image's bundled ``astronaut`` photograph, drifting slightly as a person would;
an empty room (texture and light, no face); black; a frozen picture; speech (espeak-ng when
it is installed, else a voiced synthetic signal with syllable rhythm); silence; a steady tone.
"""

from __future__ import annotations

import fractions
import os
import shutil
import subprocess
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

W, H, FPS = 640, 360, 15


def _canvas() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    room = np.empty((H, W, 3), dtype=np.uint8)
    room[..., 0] = 90 + (x // 40 % 2) * 30
    room[..., 1] = 80 + (y // 30 % 2) * 25
    room[..., 2] = 70 + ((x + y) // 50 % 2) * 20
    return room


@lru_cache(maxsize=1)
def _astronaut() -> np.ndarray:
    from skimage import data, transform

    # Head and shoulders, as a member sits in front of a tablet: the face is a third of the height.
    img = transform.resize(data.astronaut()[0:300, 90:390], (330, 330), anti_aliasing=True)
    return (img * 255).astype(np.uint8)


def face_frames(n: int = 150) -> list[np.ndarray]:
    """A member in front of the tablet, swaying a little, for ten seconds (then the clip loops).

    Presence judges a camera from its keyframes (every 15 frames here), a second or two apart,
    and calls it frozen when several in a row are the same picture: over ten seconds the ten
    keyframes all differ (with a three-second clip a loaded server analysing every third keyframe
    saw one picture again and again, and took a moving member for a frozen camera). The sway's
    phase puts every keyframe where OpenCV's face detector finds the face at 640x360 and 320x180
    (at a few other positions it misses it for a frame or two, as with a real face)."""
    face = _astronaut()
    frames = []
    for i in range(n):
        frame = _canvas()
        dx = int(6 * np.sin((i + 14) / 5))
        dy = int(4 * np.cos((i + 14) / 7))
        top, left = 15 + dy, 155 + dx
        frame[top:top + 330, left:left + 330] = face
        frames.append(frame)
    return frames


def empty_room_frames(n: int = 150) -> list[np.ndarray]:
    """An empty room for ten seconds: sensor noise and a patch of light moving across the wall."""
    rng = np.random.default_rng(1)
    frames = []
    for i in range(n):
        frame = _canvas().astype(np.int16)
        frame += rng.integers(-6, 7, size=frame.shape, dtype=np.int16)
        x = (i * 7) % 560
        frame[200:260, x:x + 80] += 40  # light moving across a wall
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def black_frames(n: int = 45) -> list[np.ndarray]:
    return [np.zeros((H, W, 3), dtype=np.uint8) for _ in range(n)]


def frozen_frames(n: int = 45) -> list[np.ndarray]:
    still = face_frames(1)[0]
    return [still for _ in range(n)]


def encode_video(frames: list[np.ndarray], gop: int = 15, width: int = W, height: int = H) -> tuple[bytes, ...]:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, FPS)
    codec.framerate = fractions.Fraction(FPS, 1)
    codec.bit_rate = 600_000
    codec.gop_size = gop
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets: list[bytes] = []
    for i, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(width=width, height=height, format="yuv420p")
        frame.pts = i
        frame.pict_type = av.video.frame.PictureType.I if i % gop == 0 else av.video.frame.PictureType.NONE
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return tuple(packets)


CACHE_VERSION = 3  # raise when a scene's pictures or their encoding change


@lru_cache(maxsize=8)
def video(scene: str, width: int = W, height: int = H) -> tuple[bytes, ...]:
    """The scene as VP8, 640x360 unless smaller is asked for (the presence analysis looks at
    160x90: a smaller camera is the same to it and cheaper for everyone decoding it).

    Ten seconds of VP8 take a loaded machine 5-15 s to encode, and several processes of one test
    run want the same scenes (the camera members' process, the test's own): the packets are kept
    in the temporary folder, written whole or not at all."""
    path = Path(tempfile.gettempdir()) / "gikai-test-scenes" / f"{scene}-{width}x{height}-v{CACHE_VERSION}.vp8"
    try:
        return _read_packets(path.read_bytes())
    except (OSError, ValueError):
        pass
    packets = encode_video({"face": face_frames, "empty": empty_room_frames, "black": black_frames,
                            "frozen": frozen_frames}[scene](), width=width, height=height)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    partial.write_bytes(b"".join(len(p).to_bytes(4, "big") + p for p in packets))
    os.replace(partial, path)
    return packets


def _read_packets(data: bytes) -> tuple[bytes, ...]:
    packets, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        if size == 0 or at + 4 + size > len(data):
            raise ValueError("a cut or damaged scene file")
        packets.append(data[at + 4:at + 4 + size])
        at += 4 + size
    if not packets:
        raise ValueError("an empty scene file")
    return tuple(packets)


def speech_pcm(seconds: float = 4.0) -> np.ndarray:
    """Mono 48 kHz int16 speech: espeak-ng if present, else a synthetic voiced signal."""
    if shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "speech.wav"
            subprocess.run(["espeak-ng", "-v", "ja", "-s", "150", "-w", str(path),
                            "ただいまから委員会を開会します。本日の議題は予算についてです。"],
                           check=True, capture_output=True, timeout=30)
            with wave.open(str(path)) as w:
                rate = w.getframerate()
                raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32)
            t_new = np.arange(int(len(raw) * 48000 / rate)) * rate / 48000
            pcm = np.interp(t_new, np.arange(len(raw)), raw)
            reps = int(np.ceil(seconds * 48000 / len(pcm)))
            return np.tile(pcm, reps)[: int(seconds * 48000)].astype(np.int16)
    t = np.arange(int(seconds * 48000)) / 48000
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / 48000
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.5 * t) > -0.3)
    return (voiced * syllables * 6000).astype(np.int16)


def tone_pcm(seconds: float = 4.0, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * 48000)) / 48000
    return (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)


def silence_pcm(seconds: float = 4.0) -> np.ndarray:
    rng = np.random.default_rng(2)
    return rng.integers(-3, 4, size=int(seconds * 48000)).astype(np.int16)  # a quiet room


def encode_audio(pcm: np.ndarray) -> tuple[bytes, ...]:
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48000, "mono", "s16"
    codec.bit_rate = 48000
    codec.time_base = fractions.Fraction(1, 48000)
    packets: list[bytes] = []
    for start in range(0, len(pcm) - 960 + 1, 960):
        frame = av.AudioFrame.from_ndarray(pcm[start:start + 960].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = start
        packets += [bytes(p) for p in codec.encode(frame)]
    return tuple(packets)


@lru_cache(maxsize=8)
def audio(scene: str) -> tuple[bytes, ...]:
    return encode_audio({"speech": speech_pcm, "tone": tone_pcm, "silence": silence_pcm}[scene]())
