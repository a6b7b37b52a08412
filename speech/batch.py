"""Transcribe a batch of recordings into a folder, one ``<call_id>.json`` each.

One bad file never stops the batch: it is reported with its name and reason and the rest go on.
Finished calls are skipped on a re-run (unless forced), and each result is written atomically so
a killed run never leaves a half-written file that would later count as done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from speech.audio import AUDIO_SUFFIXES, AudioError
from speech.pipeline import PipelineOptions, transcribe_recording
from speech.transcribe import Transcriber


@dataclass(slots=True)
class BatchReport:
    """What a batch did: calls written, skipped as already done, and failures with reasons."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0

    @property
    def speed(self) -> float:
        """Audio seconds transcribed per wall-clock second."""
        return self.audio_s / self.wall_s if self.wall_s else 0.0


def find_recordings(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Recordings named directly or found (recursively) in folders, plus paths that are not usable."""
    found: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES))
        elif path.is_file():
            if path.suffix.lower() in AUDIO_SUFFIXES:
                found.append(path)
            else:
                problems.append((path, f"not a recording (expected one of {', '.join(sorted(AUDIO_SUFFIXES))})"))
        else:
            problems.append((path, "no such file or folder"))
    return found, problems


def transcribe_batch(
    recordings: list[Path],
    out_dir: Path,
    transcriber: Transcriber,
    *,
    options: PipelineOptions | None = None,
    force: bool = False,
    on_progress: Callable[[Path, BatchReport], None] | None = None,
) -> BatchReport:
    """Transcribe ``recordings`` into ``out_dir``; never raises for a single bad recording."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BatchReport()
    owners: dict[str, Path] = {}
    done = already_done(recordings, out_dir, force=force)
    started = time.perf_counter()
    for path in recordings:
        call_id = path.stem
        target = out_dir / f"{call_id}.json"
        if call_id in owners:
            report.failed.append((path, f"call id {call_id!r} is already used by {owners[call_id]}"))
        elif path in done:
            report.skipped.append(path)
        else:
            _transcribe_one(path, target, transcriber, options, report)
        owners.setdefault(call_id, path)
        report.wall_s = time.perf_counter() - started
        if on_progress:
            on_progress(path, report)
    return report


def already_done(recordings: list[Path], out_dir: Path, *, force: bool = False) -> set[Path]:
    """Recordings whose transcript is already in ``out_dir`` (none when ``force``): a re-run skips them."""
    if force:
        return set()
    return {path for path in recordings if (out_dir / f"{path.stem}.json").exists()}


METADATA_FIELDS = ("direction", "industry", "customer_id", "agent_id", "queue", "started_at", "path", "history")


def sidecar_metadata(recording: Path) -> dict:
    """Call metadata from a ``<call_id>.json`` beside the recording (corpus format), if any.

    Only metadata is taken (who, when, IVR path, contact history); never turns or labels, so a
    labelled file beside a recording cannot leak its answers into our output.
    """
    sidecar = recording.with_suffix(".json")
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in METADATA_FIELDS if k in data}


def _transcribe_one(path, target, transcriber, options, report: BatchReport) -> None:
    try:
        conversation = transcribe_recording(path, transcriber, options)
        conversation.extra.update(sidecar_metadata(path))
    except AudioError as exc:
        report.failed.append((path, exc.reason))
        return
    except Exception as exc:  # noqa: BLE001 - one broken call must not sink the batch; the reason is kept
        report.failed.append((path, f"{type(exc).__name__}: {exc}"))
        return
    write_json(target, conversation.to_dict())
    report.written.append(target)
    report.audio_s += conversation.duration_s or 0.0


def write_json(target: Path, data: dict) -> None:
    """Write JSON atomically (temp file, then rename) so readers never see half a file."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, target)
