"""Shared fixtures: paths to test audio, and one real Whisper model for the whole session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def short_stereo() -> Path:
    """16 s, 4 turns, agent on channel 0: greeting, 流量包 question, answer, thanks."""
    return DATA / "short-stereo.wav"


@pytest.fixture(scope="session")
def timing_call() -> Path:
    """28 s, 7 turns with a 12 s dead-air gap before turn 3 and 1.2 s overtalk at turn 5."""
    return DATA / "timing-silence-overlap.wav"


def reference_turns(path: Path) -> list[dict]:
    """The true turns (role, text, start, end) rendered with a test recording."""
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["turns"]


@pytest.fixture(scope="session")
def model_spec():
    """The real default Whisper base model, assembled from the PyPI packages, int8 on the CPU."""
    from speech.model import ModelSpec, resolve_model

    return ModelSpec(resolve_model(), cpu_threads=2)


@pytest.fixture(scope="session")
def transcriber(model_spec):
    from speech.lexicon import load_lexicon
    from speech.transcribe import AsrOptions, Transcriber

    return Transcriber(model_spec, AsrOptions(), load_lexicon())
