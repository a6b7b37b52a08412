"""The Ray engine: pipeline work spread over the worker processes of a Ray cluster.

``RayExecutor`` keeps one long-lived Ray actor per worker and hands each task to an idle one, so
whatever a task caches in its process (Whisper, the Analyzer: see ``cached``) is loaded once per
worker, not once per call. It serves the service's job runner (``submit(process_job, job,
settings)``) and ``callscope analyze --engine ray`` (``analyze_paths_ray``). Inputs travel as bytes,
so the workers need no shared disk; outputs come back to the caller, who writes them.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from api.analysis import AnalyzeReport

# Ray must never phone home (usage statistics) and nothing below may reach a model hub.
OFFLINE_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}
LOCAL_OBJECT_STORE_BYTES = 300 * 1024 * 1024  # our payloads are transcripts and analyses, not arrays

_CACHE: dict[Any, Any] = {}
_CACHE_LOCK = threading.Lock()


class RayEngineError(RuntimeError):
    """Ray could not be started or reached (the message says which address and why)."""


class WorkerLost(RuntimeError):
    """The Ray worker running a task died (crash, node lost); the task did not finish."""


def cached(key: Any, factory: Callable[[], Any]) -> Any:
    """A per-process object (a model) built once by ``factory``: the worker actors live long, so
    every task after the first in a worker finds it loaded."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = factory()
        return _CACHE[key]


class RayExecutor:
    """``workers`` Ray actors on the cluster at ``address`` (None or "local": a Ray started here
    with that many CPUs; ``workers`` 0: one per CPU of the cluster); ``submit(fn, *args)`` runs
    ``fn(*args)`` on the next idle one. ``RayExecutor(service_config)`` reads both from the config.

    One dispatcher thread makes every Ray call: it hands queued tasks to idle actors (one task per
    actor at a time, so a long call never holds up short ones queued behind it) and settles the
    futures as results come back. A worker that dies fails its own task only and is replaced.
    """

    def __init__(self, address: Any, workers: int = 0, *, env: dict[str, str] | None = None):
        if hasattr(address, "ray_address"):  # a ServiceConfig: its ray_address and workers
            address, workers = address.ray_address, workers or address.workers
        os.environ.update({"RAY_USAGE_STATS_ENABLED": "0"})
        import ray

        self._ray = ray
        self.address = address if address not in (None, "", "local") else None
        self._started_ray = False
        if not ray.is_initialized():
            self._init(workers)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self.workers = workers if workers > 0 else max(cpus, 1)
        self._env = {**OFFLINE_ENV, **_passed_env(), **(env or {})}
        self._actor_class = ray.remote(num_cpus=1, max_restarts=0)(_PoolWorker)
        self._idle: deque[Any] = deque(self._new_actor() for _ in range(self.workers))
        self._queue: deque[tuple[Future, Callable, tuple]] = deque()
        self._running: dict[Any, tuple[Future, Any]] = {}  # ObjectRef -> (future, actor)
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="ray-dispatch", daemon=True)
        self._thread.start()

    def _init(self, workers: int) -> None:
        """Start or join Ray; the caller's SIGTERM handler (the service's graceful stop) is kept,
        where ray.init would replace it with its own."""
        import signal

        ray = self._ray
        common = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        main = threading.current_thread() is threading.main_thread()
        sigterm = signal.getsignal(signal.SIGTERM) if main else None
        try:
            if self.address is None:
                ray.init(address="local", num_cpus=max(workers, 1), object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                         **common)
            else:
                _check_reachable(self.address)
                ray.init(address=self.address, **common)
        except RayEngineError:
            raise
        except Exception as exc:  # ConnectionError, ValueError for a bad address, startup failures
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            hint = ""
            if self.address and not os.environ.get("RAY_AUTH_MODE") and not isinstance(exc, ValueError):
                hint = ("; if the cluster uses token authentication, set RAY_AUTH_MODE=token and the "
                        "cluster's token (RAY_AUTH_TOKEN, or the file ~/.ray/auth_token)")
            raise RayEngineError(f"could not start or reach {where}: {type(exc).__name__}: {exc}{hint}") from exc
        finally:
            if sigterm is not None:
                signal.signal(signal.SIGTERM, sigterm)
        self._started_ray = True

    def _new_actor(self):
        return self._actor_class.options(runtime_env={"env_vars": self._env}).remote()

    def submit(self, fn: Callable, *args: Any) -> Future:
        """Queue ``fn(*args)``; the future holds its result, or the exception it raised (the
        original one), or ``WorkerLost`` if its worker died. ``fn`` must be importable on workers."""
        future: Future = Future()
        with self._wake:
            if self._closed:
                raise RuntimeError("RayExecutor is shut down")
            self._queue.append((future, fn, args))
            self._wake.notify()
        return future

    def _dispatch(self) -> None:
        try:
            while self._step():
                pass
        except Exception as exc:  # noqa: BLE001 - Ray itself failed: no task may wait forever
            self._fail_all(RayEngineError(f"the Ray engine stopped: {type(exc).__name__}: {exc}"))

    def _step(self) -> bool:
        """Start what can start, settle what has finished; False once shut down."""
        with self._wake:
            if self._closed:
                return False
            starts = []
            while self._queue and self._idle:
                starts.append((*self._queue.popleft(), self._idle.popleft()))
            if not starts and not self._running:
                self._wake.wait(0.5)
                return True
        for future, fn, args, actor in starts:
            if future.set_running_or_notify_cancel():
                ref = actor.run.remote(fn, args)
                with self._wake:
                    self._running[ref] = (future, actor)
            else:
                with self._wake:
                    self._idle.append(actor)
        with self._wake:
            refs = list(self._running)
        if refs:
            done, _ = self._ray.wait(refs, num_returns=1, timeout=0.05)
            for ref in done:
                with self._wake:
                    entry = self._running.pop(ref)
                self._settle(ref, *entry)
        return True

    def _fail_all(self, error: Exception) -> None:
        with self._wake:
            self._closed = True
            waiting = [f for f, _, _ in self._queue] + [f for f, _ in self._running.values()]
            self._queue.clear()
        for future in waiting:
            if not future.done() and (future.running() or future.set_running_or_notify_cancel()):
                future.set_exception(error)

    def _settle(self, ref, future: Future, actor) -> None:
        """Pass one finished task's outcome to its future; replace its actor if that died."""
        errors = self._ray.exceptions
        try:
            future.set_result(self._ray.get(ref))
        except errors.RayTaskError as exc:  # fn raised: hand back its own exception
            cause = getattr(exc, "cause", None)
            future.set_exception(cause if isinstance(cause, BaseException) else exc)
        except (errors.RayActorError, errors.WorkerCrashedError, errors.ObjectLostError) as exc:
            future.set_exception(WorkerLost(f"the Ray worker died during the task ({type(exc).__name__})"))
            actor = None if self._closed else self._new_actor()  # replaced: the pool keeps its size
        except BaseException as exc:  # noqa: BLE001 - anything else still belongs to this task only
            future.set_exception(exc)
        if actor is not None:
            with self._wake:
                self._idle.append(actor)

    def each_worker(self, fn: Callable, *args: Any, timeout: float | None = None) -> list[Any]:
        """``fn(*args)`` once on every worker (e.g. ``warm_worker`` to load models ahead of work);
        their results. A worker busy with a task runs it after that task."""
        with self._wake:
            actors = list(self._idle) + [actor for _, actor in self._running.values()]
        return self._ray.get([actor.run.remote(fn, args) for actor in actors], timeout=timeout)

    def map_unordered(self, fn: Callable, items: Iterable, make_args: Callable[[Any], tuple],
                      window: int | None = None) -> Iterator[tuple[Any, Future]]:
        """Run ``fn(*make_args(item))`` for each item, at most ``window`` (default 2 per worker)
        submitted at a time so inputs are read as they are needed; yields (item, done future)."""
        window = window or 2 * self.workers
        pending: dict[Future, Any] = {}
        items = iter(items)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < window:
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                try:
                    future = self.submit(fn, *make_args(item))
                except Exception as exc:  # noqa: BLE001 - e.g. an unreadable input: fails alone
                    future = Future()
                    future.set_exception(exc)
                pending[future] = item
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = True) -> None:
        """Cancel what has not finished, stop the actors, and stop Ray if this executor started it
        (the signature of ``concurrent.futures.Executor.shutdown``; work in flight is abandoned)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=10)
        for future, _, _ in self._queue:
            future.cancel()
        for future, _ in self._running.values():
            if not future.done():
                future.set_exception(RuntimeError("RayExecutor was shut down before the task finished"))
        actors = list(self._idle) + [actor for _, actor in self._running.values()]
        self._queue.clear()
        self._running.clear()
        self._idle.clear()
        for actor in actors:
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001, S110 - already gone
                pass
        if self._started_ray:
            self._ray.shutdown()
            self._started_ray = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


class _PoolWorker:
    """One Ray actor: a long-lived process that runs tasks, keeping what they cache."""

    def run(self, fn: Callable, args: tuple) -> Any:
        return fn(*args)

    def pid(self) -> int:
        return os.getpid()


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast when nothing listens at a ``host:port`` address: Ray itself retries for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and the like: Ray resolves and reports them
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise RayEngineError(f"could not reach the Ray cluster at {address}: nothing answers there ({exc})") from None


def _passed_env() -> dict[str, str]:
    """Driver settings the workers need too (where the assembled Whisper model is cached)."""
    return {k: v for k, v in os.environ.items() if k == "CALLSCOPE_CACHE"}


# --- `callscope analyze --engine ray` -------------------------------------------------------------

def analysis_settings(*, taxonomy=None, models=None, lexicon=None, untrained=False, rulebooks=None,
                      whisper_model=None, threads: int = 1) -> dict[str, Any]:
    """What a worker needs to build the Analyzer (and Transcriber) exactly as the local engine
    does; paths must be readable on the Ray nodes (the defaults are installed with callscope)."""
    def text(p):
        return str(Path(p).resolve()) if p is not None else None

    return {"taxonomy": text(taxonomy), "models": text(models), "lexicon": text(lexicon),
            "untrained": bool(untrained), "rulebooks": [text(p) for p in rulebooks] if rulebooks else None,
            "whisper_model": text(whisper_model), "threads": int(threads)}


def _settings_key(settings: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in settings.items()))


def worker_analyzer(settings: dict):
    """This worker's Analyzer for ``settings``, loaded on first use."""
    from api.analysis import Analyzer

    def load():
        return Analyzer.load(taxonomy=settings["taxonomy"], models=settings["models"], lexicon=settings["lexicon"],
                             untrained=settings["untrained"],
                             rulebooks=[Path(p) for p in settings["rulebooks"]] if settings["rulebooks"] else None)

    return cached(("analyzer", _settings_key(settings)), load)


def worker_transcriber(settings: dict):
    """This worker's Whisper Transcriber (loaded on the first recording only)."""
    def load():
        from speech.lexicon import load_lexicon
        from speech.model import ModelSpec, resolve_model
        from speech.transcribe import AsrOptions, Transcriber

        spec = ModelSpec(resolve_model(settings["whisper_model"]), cpu_threads=settings["threads"])
        return Transcriber(spec, AsrOptions(), load_lexicon(settings["lexicon"]))

    return cached(("transcriber", settings["whisper_model"], settings["threads"], settings["lexicon"]), load)


def warm_worker(settings: dict, recordings: bool = True) -> int:
    """Load this worker's Analyzer (and Whisper, for ``recordings``) before the first call; its pid."""
    from callscope.types import Conversation, Turn
    from speech.model import load_whisper

    worker_analyzer(settings).analyze(Conversation("warm-up", [Turn(role="agent", text="您好，请问有什么可以帮您？")]))
    if recordings:
        load_whisper(worker_transcriber(settings).model)
    return os.getpid()


def analyze_input(name: str, content: bytes, metadata: dict, settings: dict) -> dict[str, Any]:
    """Run on a worker: one input (transcript JSON or recording, as bytes) to its analysis.

    Returns {"analysis": dict, "audio_s": float} or {"error": reason}; never raises for a bad file,
    so one bad file costs only itself.
    """
    import json

    from callscope.types import Conversation

    try:
        analyzer = worker_analyzer(settings)
        if name.lower().endswith(".json"):
            conversation = Conversation.from_dict(json.loads(content.decode("utf-8")))
        else:
            from speech.pipeline import transcribe_recording

            transcriber = worker_transcriber(settings)
            with tempfile.TemporaryDirectory(prefix="callscope-ray-") as tmp:
                path = Path(tmp) / name  # same name: the call id and transcription.source come from it
                path.write_bytes(content)
                conversation = transcribe_recording(path, transcriber)
            conversation.extra.update(metadata)
        return {"analysis": analyzer.analyze(conversation), "audio_s": conversation.duration_s or 0.0}
    except Exception as exc:  # noqa: BLE001 - the reason goes back to the driver, the batch goes on
        return {"error": getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"}


def _input_args(path: Path, settings: dict) -> tuple:
    """Read one input in the driver: its bytes, and for a recording the metadata file beside it."""
    from speech.batch import sidecar_metadata

    metadata = {} if path.suffix.lower() == ".json" else sidecar_metadata(path)
    return (path.name, path.read_bytes(), metadata, settings)


@dataclass
class RayAnalyzeReport(AnalyzeReport):
    """``AnalyzeReport`` plus the seconds of audio transcribed (for throughput figures)."""

    audio_s: float = 0.0


def analyze_paths_ray(inputs: list[Path], settings: dict, out: Path, executor: RayExecutor, *,
                      on_progress=None):
    """``api.analysis.analyze_paths`` on Ray workers: each input analysed on a worker, its
    ``<call_id>.analysis.json`` written here as it arrives; one bad file never stops the rest."""
    from speech.batch import write_json

    out.mkdir(parents=True, exist_ok=True)
    report = RayAnalyzeReport()
    started = time.perf_counter()
    results = executor.map_unordered(analyze_input, inputs, lambda p: _input_args(p, settings))
    for path, future in results:
        try:
            result = future.result()
            if "error" in result:
                report.failed.append((path, result["error"]))
            else:
                analysis = result["analysis"]
                target = out / f"{analysis['call_id']}.analysis.json"
                write_json(target, analysis)
                report.written.append(target)
                report.audio_s += result["audio_s"]
        except Exception as exc:  # noqa: BLE001 - unreadable input, worker lost: this file only
            report.failed.append((path, getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"))
        if on_progress:
            on_progress(path, report)
    report.seconds = time.perf_counter() - started
    return report
