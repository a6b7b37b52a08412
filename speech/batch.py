"""Transcribe a batch of recordings into a folder, one ``<call_id>.json`` each.

One bad file never stops the batch: it is reported with its name and reason and the rest go on.
Finished calls are skipped on a re-run (unless forced), and each result is written atomically so
a killed run never leaves a half-written file that would later count as done. On a CPU the calls
are shared among worker processes, one core each: part of every call (VAD, features, word
alignment, correction) runs in Python on one core, so two one-thread workers keep both cores busy
where one two-thread model leaves one idle (``worker_plan``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
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


MAX_AUTO_WORKERS = 4  # each worker holds its own model and tables (about 0.7 GB with Whisper base)


def available_cores() -> int:
    """Cores this process may run on (the container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_plan(calls: int, threads: int = 0, workers: int = 0, device: str = "cpu") -> tuple[int, int]:
    """(worker processes, model threads each) for a batch of ``calls``.

    ``threads`` is the cores to use in all (0: every available core) and ``workers`` the processes
    (0: one per core, at most ``MAX_AUTO_WORKERS``, never more than there are calls); a GPU gets
    one worker. The threads are shared out, at least one per worker.
    """
    cores = threads if threads > 0 else available_cores()
    if workers <= 0:
        workers = 1 if device != "cpu" else min(cores, MAX_AUTO_WORKERS)
    workers = max(1, min(workers, calls))
    return workers, (max(1, cores // workers) if workers > 1 else threads)


def transcribe_batch(
    recordings: list[Path],
    out_dir: Path,
    transcriber: Transcriber,
    *,
    options: PipelineOptions | None = None,
    force: bool = False,
    workers: int = 1,
    on_progress: Callable[[Path, BatchReport], None] | None = None,
) -> BatchReport:
    """Transcribe ``recordings`` into ``out_dir``; never raises for a single bad recording.

    With ``workers`` > 1 the calls go to that many processes, each with its own copy of
    ``transcriber`` (its model spec's ``cpu_threads`` is what each process uses), and progress is
    reported as calls finish, in whatever order that is.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BatchReport()
    owners: dict[str, Path] = {}
    done = already_done(recordings, out_dir, force=force)
    started = time.perf_counter()

    def tick(path: Path) -> None:
        report.wall_s = time.perf_counter() - started
        if on_progress:
            on_progress(path, report)

    todo: list[tuple[Path, Path]] = []
    for path in recordings:
        call_id = path.stem
        if call_id in owners:
            report.failed.append((path, f"call id {call_id!r} is already used by {owners[call_id]}"))
            tick(path)
        elif path in done:
            report.skipped.append(path)
            tick(path)
        else:
            todo.append((path, out_dir / f"{call_id}.json"))
        owners.setdefault(call_id, path)
    if workers <= 1 or len(todo) <= 1:
        for path, target in todo:
            _record(report, path, _transcribe_one(path, target, transcriber, options))
            tick(path)
        return report
    for (path, target), outcome in in_workers(_worker_transcribe, todo, workers, (transcriber, options)):
        if isinstance(outcome, BrokenProcessPool):
            outcome = ("failed", "the worker process died (out of memory?) while on this call")
        elif isinstance(outcome, BaseException):
            outcome = ("failed", f"{type(outcome).__name__}: {outcome}")
        _record(report, path, outcome)
        tick(path)
    return report


def in_workers(task: Callable, items: list, workers: int, state: object) -> Iterator[tuple[object, object]]:
    """``(item, task(item, state))`` for every item as it finishes, from ``workers`` fresh processes
    that each receive ``state`` once (a transcriber: each loads its own model). A task that raises
    gives its exception as the result, so one failure loses nothing else."""
    if not items:
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no model or threads forked
    with ProcessPoolExecutor(min(workers, len(items)), mp_context=context, initializer=_keep_state,
                             initargs=(state,)) as pool:
        futures = {pool.submit(_run_task, task, item): item for item in items}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as exc:  # noqa: BLE001 - handed to the caller with its item
                yield futures[future], exc


_STATE: list[object] = []


def _keep_state(state: object) -> None:
    """Keep the batch's shared state in this worker process."""
    _STATE[:] = [state]


def _run_task(task: Callable, item: object) -> object:
    """``task`` on one item with this worker's state."""
    return task(item, _STATE[0])


def _record(report: BatchReport, path: Path, outcome: tuple) -> None:
    """Add one call's outcome (``("written", target, audio_s)`` or ``("failed", reason)``) to ``report``."""
    if outcome[0] == "written":
        report.written.append(outcome[1])
        report.audio_s += outcome[2]
    else:
        report.failed.append((path, outcome[1]))


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


def _worker_transcribe(job: tuple[Path, Path], state: tuple[Transcriber, PipelineOptions | None]) -> tuple:
    """One call in a worker process; the outcome goes back to the parent, the transcript to its target."""
    return _transcribe_one(*job, *state)


def _transcribe_one(path: Path, target: Path, transcriber: Transcriber, options: PipelineOptions | None) -> tuple:
    """Transcribe one call into ``target``: ``("written", target, audio seconds)`` or ``("failed", reason)``."""
    try:
        conversation = transcribe_recording(path, transcriber, options)
        conversation.extra.update(sidecar_metadata(path))
    except AudioError as exc:
        return ("failed", exc.reason)
    except Exception as exc:  # noqa: BLE001 - one broken call must not sink the batch; the reason is kept
        return ("failed", f"{type(exc).__name__}: {exc}")
    write_json(target, conversation.to_dict())
    return ("written", target, conversation.duration_s or 0.0)


def write_json(target: Path, data: dict) -> None:
    """Write JSON atomically (temp file, then rename) so readers never see half a file."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, target)
