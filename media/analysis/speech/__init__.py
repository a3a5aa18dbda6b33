"""Japanese speech recognition: live captions of the microphones that have the floor, and the
会議録 draft of a recorded speech.

- ``utterance.py``: :class:`Utterance`, :class:`Caption`, ``SAMPLE_RATE`` (16 kHz mono float32)
- ``model.py``: the Whisper *base* model folder from the ``gikai[speech]`` packages, checked
- ``engine.py``: :class:`SpeechEngine`, faster-whisper in one worker process, calls queued
- ``vad.py``: utterances cut out of a stream by a voice-activity detector
- ``live.py``: :class:`LiveCaptions`, the watched up-tracks' Opus decoded, cut and recognised
- ``recorded.py``: :func:`speech_samples` of a recording, the :func:`draft` of a speech

The engine and the detector come with the optional extra ``gikai[speech]``: import this package
only when speech recognition is configured.
"""

from gikai.media.analysis.speech.engine import SpeechEngine
from gikai.media.analysis.speech.live import LiveCaptions
from gikai.media.analysis.speech.model import check_model_dir, installed_model_dir
from gikai.media.analysis.speech.recorded import draft, speech_samples
from gikai.media.analysis.speech.utterance import SAMPLE_RATE, Caption, Utterance
from gikai.media.errors import SpeechModelError

__all__ = [
    "SAMPLE_RATE",
    "Caption",
    "LiveCaptions",
    "SpeechEngine",
    "SpeechModelError",
    "Utterance",
    "check_model_dir",
    "draft",
    "installed_model_dir",
    "speech_samples",
]
