"""Recording without re-encoding: each published track's encoded frames, muxed into WebM.

A :class:`Recorder` listens on up-tracks and writes the same VP8 pictures and Opus packets the
SFU forwards into WebM files with ``av``'s muxer; nothing is decoded or encoded. Each track has
a key and a timeline of segment files under ``<directory>/<key>/``: ``<key>-0001.webm``,
``<key>-0002.webm``… plus ``manifest.jsonl``, one line per finished segment. Timestamps are
milliseconds on the sitting clock, so every file of a sitting shares one time axis. After a crash
:func:`recover` turns what is left into finished files.

- ``segment``: one segment file being written and finished; the manifest; file names
- ``recorder``: :class:`Recorder` and each track's placing of frames on the sitting clock
- ``recovery``: :func:`recover`, ``.part`` files left by a killed process made whole
"""

from gikai.media.archive.recording.recorder import Recorder
from gikai.media.archive.recording.recovery import recover
from gikai.media.archive.recording.segment import SegmentInfo

__all__ = ["Recorder", "SegmentInfo", "recover"]
