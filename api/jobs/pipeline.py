"""One job's work, free of the database: a stored upload and its metadata in, the analysis dict out.

``process_job(job, settings)`` is what every engine runs: the local worker processes and Ray
workers alike, so it takes only plain, picklable values and touches no session. The Whisper
transcriber and the analyzer are loaded once per process and kept; the analyzer is loaded again
when the customer's configuration changes (``settings["config_version"]``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Fields of the upload metadata (api.schemas.uploads.UploadMetadata) that reach the conversation.
METADATA_FIELDS = ("agent_id", "queue", "customer_id", "direction", "industry", "started_at", "path", "history",
                   "outcome", "preferred_channel")

Stage = Callable[[str, float], None]

_lock = threading.Lock()
_analyzer: tuple[tuple, Any] | None = None
_transcriber: tuple[tuple, Any] | None = None


class JobInputError(ValueError):
    """The uploaded file cannot be used; the message says why (it becomes the job's reason)."""


def settings_for(config, active=None) -> dict[str, Any]:
    """The picklable settings ``process_job`` needs, from a ``ServiceConfig`` and the customer
    configuration in force (``api.storage.config_files.active_paths``; looked up when not given)."""
    if active is None:
        from api.storage.config_files import active_paths

        active = active_paths(config)
    return {
        "models": str(config.models) if config.models else None,
        "untrained": bool(config.untrained),
        "whisper_model": str(config.whisper_model) if config.whisper_model else None,
        "whisper_threads": whisper_threads(config),
        "taxonomy": str(active.taxonomy) if active.taxonomy else None,
        "rulebooks": [str(p) for p in active.rulebooks],
        "config_version": str(active.version),
    }


def whisper_threads(config) -> int:
    """CPU threads per Whisper: local workers share this machine's cores (0: CTranslate2 decides,
    as on Ray, where each worker holds its own CPU)."""
    if config.extra.get("whisper_threads") is not None:
        return int(config.extra["whisper_threads"])
    if config.engine != "local":
        return 0
    return max(1, (os.cpu_count() or 1) // max(1, config.workers))


def process_job(job: dict[str, Any], settings: dict[str, Any], on_stage: Stage | None = None) -> dict[str, Any]:
    """The analysis of one job (``kind``, ``stored_path``, ``filename``, ``meta``).

    A transcript (corpus-format JSON; labels are dropped) is read, a recording transcribed; the
    upload's metadata then overrides or fills the call's own, and the analyzer runs. ``on_stage``
    (optional, local workers only) hears ``("analysing", progress)`` when transcription is over.
    Raises ``JobInputError`` with the reason when the file cannot be used.
    """
    stage = on_stage or (lambda _state, _progress: None)
    if job["kind"] == "transcript":
        conversation = read_transcript(Path(job["stored_path"]))
    elif job["kind"] == "recording":
        conversation = transcribe(Path(job["stored_path"]), settings)
        conversation.call_id = call_id_from_filename(job.get("filename") or Path(job["stored_path"]).name)
    else:
        raise JobInputError(f"unknown job kind {job['kind']!r}")
    stage("analysing", 0.8 if job["kind"] == "recording" else 0.3)
    conversation.extra.pop("labels", None)
    meta = job.get("meta") or {}
    conversation.extra.update({k: meta[k] for k in METADATA_FIELDS if meta.get(k) is not None})
    return analyzer(settings).analyze(conversation)


def read_transcript(path: Path):
    """A transcript file as a ``Conversation``; ``JobInputError`` naming what is wrong."""
    from callscope.types import Conversation

    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise JobInputError(f"the stored file {path.name} is missing") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise JobInputError(f"not a valid UTF-8 JSON transcript ({exc})") from None
    try:
        return Conversation.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise JobInputError(f"transcript: {exc}") from None


def transcribe(path: Path, settings: dict[str, Any]):
    """A recording transcribed with this process's Whisper; ``JobInputError`` if it cannot be decoded."""
    from speech.audio import AudioError
    from speech.pipeline import transcribe_recording

    try:
        return transcribe_recording(path, transcriber(settings))
    except AudioError as exc:
        raise JobInputError(exc.reason) from None


def call_id_from_filename(filename: str) -> str:
    """The call id of a recording: its file name without the extension (unsafe characters replaced)."""
    stem = Path(filename).stem.strip() or "call"
    return re.sub(r"[^\w.\-]+", "_", stem)[:180]


def analyzer(settings: dict[str, Any]):
    """This process's ``Analyzer`` for ``settings``, loaded again when models or configuration change."""
    global _analyzer
    from api.analysis import Analyzer

    key = (settings.get("models"), settings.get("untrained"), settings.get("taxonomy"),
           tuple(settings.get("rulebooks") or ()), settings.get("config_version"))
    with _lock:
        if _analyzer is None or _analyzer[0] != key:
            loaded = Analyzer.load(taxonomy=settings.get("taxonomy"), models=settings.get("models"),
                                   untrained=bool(settings.get("untrained")),
                                   rulebooks=[Path(p) for p in settings.get("rulebooks") or []] or None)
            _analyzer = (key, loaded)
        return _analyzer[1]


def transcriber(settings: dict[str, Any]):
    """This process's Whisper ``Transcriber`` (the model itself loads on first use and stays)."""
    global _transcriber
    from speech.lexicon import load_lexicon
    from speech.model import ModelSpec, resolve_model
    from speech.transcribe import AsrOptions, Transcriber

    key = (settings.get("whisper_model"), settings.get("whisper_threads", 0))
    with _lock:
        if _transcriber is None or _transcriber[0] != key:
            spec = ModelSpec(resolve_model(settings.get("whisper_model")), cpu_threads=int(key[1] or 0))
            _transcriber = (key, Transcriber(spec, AsrOptions(), load_lexicon(None)))
        return _transcriber[1]
