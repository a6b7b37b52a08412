"""The job runner of one service: starts the engine that works the queue, and keeps the queue honest.

Engines: ``local`` (default) starts ``config.workers`` worker processes (``api.jobs.local``);
``ray`` hands ``process_job`` to ``api.jobs.ray_engine.RayExecutor`` (any executor with
``submit(fn, *args) -> Future`` works: ``ExecutorLoop`` claims jobs, submits them, stores results).

Restarts: on start, jobs left running by a dead service of this machine go back to the queue
without counting an attempt (the file did nothing wrong); jobs whose worker elsewhere stopped
renewing its lease are failed one attempt and requeued. A worker process that dies (a decoder
crash on a poisoned file) costs its job one attempt, and is started again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, wait

from api.jobs.local import Heartbeat, reason_of, record_failure, retry_backoff, worker_main
from api.jobs.pipeline import process_job, settings_for
from api.storage import jobs as queue

log = logging.getLogger("callscope.jobs")

STOP_SIGNALS = {-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP}


def service_prefix() -> str:
    """``host:pid:instance`` of this service; every worker id starts with it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def orphaned(worker: str | None, host: str | None = None) -> bool:
    """A running job's worker id belongs to a service of this machine that no longer runs."""
    if not worker:
        return True
    parts = worker.split(":")
    if len(parts) < 3 or parts[0] != (host or socket.gethostname()):
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():  # our own pid, but not our instance (we have just started): a past life
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobRunner:
    """Starts and stops the pipeline engine of one service, and watches over the queue."""

    def __init__(self, config, db):
        self.config = config
        self.db = db
        self.prefix = service_prefix()
        self.stopping = threading.Event()
        self.processes: dict[str, multiprocessing.process.BaseProcess] = {}
        self.loop: ExecutorLoop | None = None
        self._context = multiprocessing.get_context("spawn")
        self._monitor: threading.Thread | None = None

    def start(self) -> None:
        """Requeue what a dead service left running, start the engine and the monitor."""
        from api.jobs.intake import sweep_incoming

        sweep_incoming(self.config.upload_dir)
        self.recover()
        if self.config.engine == "ray":
            self.loop = ExecutorLoop(self.config, self.db, ray_executor(self.config), f"{self.prefix}:ray",
                                     capacity=max(1, self.config.workers))
            self.loop.start()
        elif self.config.engine == "local":
            for n in range(max(0, self.config.workers)):
                self._spawn(f"{self.prefix}:w{n}")
        else:
            raise ValueError(f"engine {self.config.engine!r} is not one of local, ray")
        self._monitor = threading.Thread(target=self._watch, name="callscope-job-monitor", daemon=True)
        self._monitor.start()

    def stop(self) -> None:
        """Stop the workers (a job in progress is put back in the queue, no attempt counted)."""
        self.stopping.set()
        if self.loop is not None:
            self.loop.stop()
        for process in self.processes.values():
            if process.is_alive():
                process.terminate()
        for process in self.processes.values():
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        try:
            with self.db.session() as session:
                mine = [job_id for job_id, worker in queue.running_jobs(session)
                        if worker and worker.startswith(self.prefix + ":")]
                queue.release(session, mine)
        except Exception:
            log.warning("could not release running jobs on stop", exc_info=True)

    def recover(self) -> int:
        """Put back in the queue the jobs a dead service of this machine left running (kill -9, power
        loss); returns how many. Jobs of live services elsewhere are left to their leases."""
        with self.db.session() as session:
            orphans = [job_id for job_id, worker in queue.running_jobs(session) if orphaned(worker)]
            released = queue.release(session, orphans)
        if released:
            log.warning("requeued %d job(s) left running by a stopped service", released)
        return released

    def _spawn(self, worker: str) -> None:
        process = self._context.Process(target=worker_main, args=(self.config, worker),
                                        name=f"callscope-worker-{worker.rsplit(':', 1)[-1]}", daemon=True)
        process.start()
        self.processes[worker] = process

    def _watch(self) -> None:
        """Every poll: restart dead workers (failing their job one attempt); now and then, fail jobs
        whose lease ran out."""
        sweep_every = max(1.0, min(self.config.lease_s / 2, 30.0))
        waited = 0.0
        period = max(0.2, self.config.poll_s)
        while not self.stopping.wait(period):
            try:
                for worker, process in list(self.processes.items()):
                    if not process.is_alive() and not self.stopping.is_set():
                        self._worker_died(worker, process.exitcode)
                waited += period
                if waited >= sweep_every:
                    waited = 0.0
                    with self.db.session() as session:
                        queue.expire_leases(session, self.config.max_attempts, retry_backoff(self.config))
            except Exception:
                log.warning("job monitor", exc_info=True)

    def _worker_died(self, worker: str, exitcode: int | None) -> None:
        """A worker ended without being asked to. Stopped from outside (SIGTERM, SIGINT, SIGHUP: e.g.
        the whole service being stopped) its job goes back to the queue as is; died any other way
        (a crash, the kernel's OOM killer) its job is failed one attempt: the file may be the cause."""
        with self.db.session() as session:
            held = [job_id for job_id, w in queue.running_jobs(session) if w == worker]
            if exitcode in STOP_SIGNALS:
                queue.release(session, held)
                held = []
        for job_id in held:
            record_failure(self.db, self.config, job_id,
                           f"the worker process died while working on this file (exit code {exitcode})", worker)
        log.warning("worker %s ended (exit code %s); starting it again", worker, exitcode)
        self._spawn(worker)


def ray_executor(config):
    """The Ray executor (``api.jobs.ray_engine``), or a clear error when it cannot be used."""
    try:
        from api.jobs.ray_engine import RayExecutor
    except ImportError as exc:
        raise RuntimeError(f"engine 'ray' is configured but the Ray engine is not available ({exc})") from exc
    return RayExecutor(config)


class ExecutorLoop:
    """Works the queue through an executor (``submit(fn, *args) -> Future``): claims up to
    ``capacity`` jobs, submits ``process_job`` for each, stores each result (or counts the failure)
    as it completes, and renews the leases of the jobs in flight."""

    def __init__(self, config, db, executor, worker: str, *, capacity: int):
        self.config, self.db, self.executor, self.worker = config, db, executor, worker
        self.capacity = capacity
        self.inflight: dict[Future, dict] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="callscope-executor-loop", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop taking jobs; jobs in flight go back to the queue (no attempt counted)."""
        self.stopping.set()
        self.thread.join(timeout=10)
        shutdown = getattr(self.executor, "shutdown", None)
        if shutdown is not None:
            try:
                shutdown(wait=False, cancel_futures=True)
            except TypeError:
                shutdown()

    def _run(self) -> None:
        with Heartbeat(self.db, self._in_flight, self.worker, self.config.lease_s):
            while not self.stopping.is_set():
                try:
                    self._fill()
                    if not self.inflight:
                        self.stopping.wait(self.config.poll_s)
                        continue
                    done, _ = wait(list(self.inflight), timeout=self.config.poll_s, return_when=FIRST_COMPLETED)
                    for future in done:
                        self._settle(future, self.inflight.pop(future))
                except Exception:
                    log.warning("executor loop", exc_info=True)
                    self.stopping.wait(self.config.poll_s)
        with self.db.session() as session:
            queue.release(session, [job["id"] for job in self.inflight.values()])

    def _in_flight(self) -> list[int]:
        return [job["id"] for job in list(self.inflight.values())]

    def _fill(self) -> None:
        settings = None
        while len(self.inflight) < self.capacity and not self.stopping.is_set():
            with self.db.session() as session:
                job = queue.claim_next(session, self.worker, self.config.lease_s)
            if job is None:
                return
            settings = settings or settings_for(self.config)
            try:
                future = self.executor.submit(process_job, job, settings)
            except Exception as exc:  # noqa: BLE001 - e.g. the cluster is gone: the job is retried later
                record_failure(self.db, self.config, job["id"], reason_of(exc), self.worker)
                return
            self.inflight[future] = job

    def _settle(self, future: Future, job: dict) -> None:
        try:
            analysis = future.result()
        except Exception as exc:  # noqa: BLE001 - the job records why
            record_failure(self.db, self.config, job["id"], reason_of(exc), self.worker)
            return
        try:
            with self.db.session() as session:
                queue.complete(session, job, self.worker, analysis)
        except queue.LostLease:
            log.warning("job %s was taken over while in flight; its result is dropped", job["id"])
        except Exception as exc:  # noqa: BLE001
            record_failure(self.db, self.config, job["id"], reason_of(exc), self.worker)
