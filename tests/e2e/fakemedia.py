"""Fake camera and microphone files for Chromium's --use-file-for-fake-*-capture.

Each participant gets its own colour and voice pitch, so screenshots and levels tell
them apart. Chromium loops both files.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 15
SAMPLE_RATE = 48_000


def write_y4m(path: Path, seconds: float = 3.0, hue: int = 0, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """An I420 clip (640x360 at 15 fps by default): a colour wash with a bright square moving across."""
    frames = int(seconds * FPS)
    side = height // 3
    yy, xx = np.mgrid[0:height, 0:width]
    base_y = (60 + 100 * xx / width + 40 * yy / height).astype(np.uint8)
    angle = 2 * np.pi * hue / 360
    u_value = int(128 + 90 * np.cos(angle))
    v_value = int(128 + 90 * np.sin(angle))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            y = base_y.copy()
            x0 = int((width - side) * i / max(1, frames - 1))
            y0 = int((height - side) * (0.5 + 0.4 * np.sin(2 * np.pi * i / frames)))
            y[y0:y0 + side, x0:x0 + side] = 235
            u = np.full((height // 2, width // 2), u_value, np.uint8)
            v = np.full((height // 2, width // 2), v_value, np.uint8)
            u[y0 // 2:(y0 + side) // 2, x0 // 2:(x0 + side) // 2] = 128
            v[y0 // 2:(y0 + side) // 2, x0 // 2:(x0 + side) // 2] = 128
            out.write(b"FRAME\n")
            out.write(y.tobytes())
            out.write(u.tobytes())
            out.write(v.tobytes())
    return path


def write_face_y4m(path: Path, frames: int = 45) -> Path:
    """A person in front of the camera (the face scene of tests/support/scenes.py), for
    presence detection: 640x360, 15 fps, the face drifting slightly."""
    return write_scene_y4m(path, "face", frames)


def write_scene_y4m(path: Path, scene: str, frames: int = 150, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A scene of tests/support/scenes.py ("face" or "empty": a room with light moving
    across the wall and nobody in it) as a 15 fps clip, 640x360 unless smaller is asked for
    (several browsers on two cores). Ten seconds by default: the presence analysis, a picture
    every second or two, must not see the same picture of a looping clip again and again."""
    import av

    from tests.support.scenes import empty_room_frames, face_frames

    make = {"face": face_frames, "empty": empty_room_frames}[scene]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in make(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            planes = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            out.write(b"FRAME\n")
            out.write(planes.tobytes())
    return path


def write_wav(path: Path, seconds: float = 3.0, pitch: float = 140.0) -> Path:
    """48 kHz 16-bit mono, speech-like: a voiced harmonic series in syllable bursts.

    A steady sine would be removed by the browser's noise suppression; bursts of
    harmonics at a syllable rate pass through it like speech does.
    """
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    vibrato = pitch * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(vibrato) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 3.5 * t) * 1.4, 0, 1) ** 0.7
    signal = 0.3 * voice / np.max(np.abs(voice)) * (0.15 + 0.85 * syllables)
    samples = (signal * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return path
