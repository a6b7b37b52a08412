"""The default engine: worker processes of the service, each taking jobs from the database queue.

A worker claims a job, runs ``process_job`` with stage updates (transcribing → analysing), renews
its lease from a thread while it works, and stores the call and marks the job done in one
transaction. A failure puts the job back in the queue with the reason, or fails it for good after
``max_attempts``; a worker that dies is noticed by the runner, which does the same for its job.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Self

from api.jobs.pipeline import JobInputError, process_job, settings_for
from api.storage import jobs as queue

log = logging.getLogger("callscope.jobs")


def reason_of(exc: BaseException) -> str:
    """A failure's reason for the job record: the message of a bad-input error, else type and message."""
    exc = getattr(exc, "cause", None) or exc  # Ray wraps the worker's exception
    if isinstance(exc, JobInputError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Heartbeat:
    """While the block runs, renews the leases of the jobs ``job_ids()`` names every third of the
    lease (a missed renewal is retried at the next beat; the lease has the slack)."""

    def __init__(self, db, job_ids: Callable[[], list[int]], worker: str, lease_s: float):
        self.db, self.job_ids, self.worker, self.lease_s = db, job_ids, worker, lease_s
        self.interval = max(0.5, min(lease_s / 3, 60.0))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="callscope-heartbeat", daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.db.session() as session:
                    for job_id in self.job_ids():
                        queue.heartbeat(session, job_id, self.worker, self.lease_s)
            except Exception:
                log.warning("lease renewal failed", exc_info=True)


def run_one(config, db, worker: str) -> bool:
    """Claim and process one job; False when the queue was empty."""
    with db.session() as session:
        job = queue.claim_next(session, worker, config.lease_s)
    if job is None:
        return False
    job_id = job["id"]

    def stage(state: str, progress: float) -> None:
        with db.session() as session:
            queue.set_stage(session, job_id, worker, state, progress)

    try:
        with Heartbeat(db, lambda: [job_id], worker, config.lease_s):
            analysis = process_job(job, settings_for(config), on_stage=stage)
            with db.session() as session:
                call_id = queue.complete(session, job, worker, analysis)
        log.info("job %s done: call %s", job_id, call_id)
    except queue.LostLease:
        log.warning("job %s was taken from %s (lease expired); its result is dropped", job_id, worker)
    except Exception as exc:  # noqa: BLE001 - the job records why; the worker goes on with the next
        record_failure(db, config, job_id, reason_of(exc), worker)
    return True


def record_failure(db, config, job_id: int, reason: str, worker: str | None) -> str | None:
    """Count a failed attempt of a job: requeued to wait ``retry_backoff(config)`` (doubling with
    each failure), or failed for good at max_attempts."""
    with db.session() as session:
        state = queue.fail(session, job_id, reason, config.max_attempts, worker=worker,
                           backoff_s=retry_backoff(config))
    log.warning("job %s attempt failed (%s): %s", job_id, state, reason)
    return state


def retry_backoff(config) -> float:
    """Seconds a failed job first waits before its retry: ten polls of the queue."""
    return 10 * config.poll_s


def worker_main(config, worker: str) -> None:
    """Entry point of a worker process: take jobs until the runner terminates the process (SIGTERM;
    a job in progress is then put back in the queue by the runner), or until the process that started
    it is gone (killed with -9, or exited without stopping its workers): an orphan takes no more jobs."""
    from api.storage.session import Database

    started_by = multiprocessing.parent_process()  # its pid is known before this runs: no race with a kill
    parent = started_by.pid if started_by is not None else os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the service, which stops its workers
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    db = Database(config.database_url)
    warm(config)
    while os.getppid() == parent:
        try:
            busy = run_one(config, db, worker)
        except Exception:
            log.warning("worker %s: could not take a job", worker, exc_info=True)  # e.g. database unreachable
            busy = False
        if not busy:
            time.sleep(config.poll_s)
    log.warning("worker %s: the service that started it is gone; stopping", worker)


def warm(config) -> None:
    """Load the analyzer (and the word segmenter, by analysing one greeting) before the first job
    arrives; a failure shows later, as that job's reason."""
    from api.jobs.pipeline import analyzer
    from callscope.types import Conversation, Turn

    try:
        analyzer(settings_for(config)).analyze(Conversation("warm-up", [Turn(role="agent", text="您好，请问有什么可以帮您？")]))
    except Exception:
        log.warning("could not load the analyzer ahead of the first job", exc_info=True)
