"""The job queue in the database: enqueue (deduplicated by content hash), claim, lease, finish, fail.

States: queued → transcribing (recordings) → analysing → done, or failed with the reason. A worker
claims a queued job with one atomic UPDATE (no two workers get the same job, on SQLite and on
PostgreSQL) and holds it under a lease it renews while working; ``fail`` puts the job back in the
queue until ``max_attempts`` failures, then marks it failed. ``attempts`` counts failures only, so
a job requeued because the service itself was killed is not held against the file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from api.storage.models import JOB_STATES, Job, utcnow

RUNNING = ("transcribing", "analysing")
FINAL = ("done", "failed")


class LostLease(RuntimeError):
    """The job is no longer this worker's (its lease expired and it was taken over, or it was reset)."""


def find_by_hash(session: Session, content_hash: str) -> Job | None:
    """The job of an upload with this SHA-256, if that content was accepted before."""
    return session.scalar(select(Job).where(Job.content_hash == content_hash))


def enqueue(session: Session, *, content_hash: str, filename: str, kind: str, stored_path: str, size: int,
            meta: dict[str, Any] | None = None, batch: str | None = None,
            uploaded_by: str | None = None) -> tuple[Job, bool]:
    """Queue a job for a stored file, or return the existing job of the same content.

    Returns ``(job, duplicate)``. The file must already be on disk (and synced): the row is what
    makes the upload accepted. A concurrent upload of the same content violates the unique hash
    (``IntegrityError`` at flush); the caller rolls back and answers with the job found then.
    """
    existing = find_by_hash(session, content_hash)
    if existing is not None:
        return existing, True
    job = Job(content_hash=content_hash, filename=filename[:300], kind=kind, stored_path=stored_path, size=size,
              meta=meta or {}, state="queued", progress=0.0, attempts=0, batch=batch, uploaded_by=uploaded_by)
    session.add(job)
    session.flush()  # a concurrent twin raises IntegrityError here: roll back and look it up again
    return job, False


def claim_next(session: Session, worker: str, lease_s: float) -> dict[str, Any] | None:
    """Atomically take the oldest queued job for ``worker`` (a job waiting to be retried counts from
    its retry time, kept in ``lease_until``); None when no job is ready.

    One UPDATE ... WHERE id = (oldest queued) AND state = 'queued' RETURNING: SQLite takes its write
    lock before reading, PostgreSQL skips rows another worker has locked, and the repeated state
    condition makes a lost race update nothing. Run it as the first statement of its transaction.
    Recordings start in ``transcribing``, transcripts in ``analysing``.
    """
    now = utcnow()
    other = aliased(Job)
    ready = (other.state == "queued", or_(other.lease_until.is_(None), other.lease_until <= now))
    oldest = (select(other.id).where(*ready).order_by(other.id).limit(1)
              .with_for_update(skip_locked=True).scalar_subquery())
    first_state = case((Job.kind == "recording", "transcribing"), else_="analysing")
    row = session.execute(
        update(Job).where(Job.id == oldest, Job.state == "queued")
        .values(state=first_state, worker=worker, lease_until=now + timedelta(seconds=lease_s),
                progress=0.05, updated_at=now)
        .returning(Job.id, Job.kind, Job.filename, Job.stored_path, Job.meta, Job.attempts, Job.state)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    return {"id": row.id, "kind": row.kind, "filename": row.filename, "stored_path": row.stored_path,
            "meta": dict(row.meta or {}), "attempts": row.attempts, "state": row.state}


def _owned(job_id: int, worker: str):
    return (Job.id == job_id, Job.worker == worker, Job.state.in_(RUNNING))


def set_stage(session: Session, job_id: int, worker: str, state: str, progress: float) -> None:
    """Record the stage a worker has reached; raises ``LostLease`` when the job is no longer its own."""
    if state not in RUNNING:
        raise ValueError(f"{state!r} is not a running state ({', '.join(RUNNING)})")
    result = session.execute(update(Job).where(*_owned(job_id, worker))
                             .values(state=state, progress=max(0.0, min(progress, 0.99)), updated_at=utcnow())
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise LostLease(f"job {job_id} is no longer held by {worker}")


def heartbeat(session: Session, job_id: int, worker: str, lease_s: float) -> bool:
    """Extend the lease of a job the worker still holds; False when it holds it no more."""
    result = session.execute(update(Job).where(*_owned(job_id, worker))
                             .values(lease_until=utcnow() + timedelta(seconds=lease_s))
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def finish(session: Session, job_id: int, worker: str, call_id: str) -> None:
    """Mark the job done with the call it produced. Call it in the transaction that stores the call:
    raises ``LostLease`` (so that transaction rolls back) if another worker has the job now."""
    now = utcnow()
    result = session.execute(update(Job).where(*_owned(job_id, worker))
                             .values(state="done", progress=1.0, call_id=call_id, error=None, worker=None,
                                     lease_until=None, finished_at=now, updated_at=now)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise LostLease(f"job {job_id} is no longer held by {worker}")


def fail(session: Session, job_id: int, reason: str, max_attempts: int, *, worker: str | None = None,
         backoff_s: float = 0.0) -> str | None:
    """Count a failed attempt: back to ``queued`` (reason kept in ``error``) until ``max_attempts``
    failures, then ``failed`` for good. A requeued job waits ``backoff_s`` doubled per earlier
    failure (at most 10 minutes) before it can be claimed again. With ``worker``, only if that
    worker still holds the job. Returns the new state, or None when nothing changed."""
    where = [Job.id == job_id, Job.state.in_(RUNNING)]
    if worker is not None:
        where.append(Job.worker == worker)
    before = session.scalar(select(Job.attempts).where(*where))
    if before is None:
        return None
    now = utcnow()
    final = before + 1 >= max_attempts
    retry_at = now + timedelta(seconds=min(600.0, backoff_s * 2 ** before)) if backoff_s > 0 else None
    result = session.execute(
        update(Job).where(*where, Job.attempts == before)
        .values(attempts=before + 1, error=reason[:4000], worker=None, updated_at=now,
                state="failed" if final else "queued", progress=1.0 if final else 0.0,
                finished_at=now if final else None, lease_until=None if final else retry_at)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    return "failed" if final else "queued"


def expire_leases(session: Session, max_attempts: int, backoff_s: float = 0.0) -> list[int]:
    """Fail (one attempt each) the running jobs whose worker stopped renewing its lease."""
    stale = session.scalars(select(Job.id).where(Job.state.in_(RUNNING), Job.lease_until < utcnow())).all()
    for job_id in stale:
        fail(session, job_id, "the worker stopped responding (lease expired)", max_attempts, backoff_s=backoff_s)
    return list(stale)


def running_jobs(session: Session) -> list[tuple[int, str | None]]:
    """(job id, worker) of every job in a running state."""
    return [(r.id, r.worker) for r in session.execute(select(Job.id, Job.worker).where(Job.state.in_(RUNNING)))]


def release(session: Session, job_ids: list[int]) -> int:
    """Put running jobs back in the queue without counting an attempt (their worker was stopped,
    or the service that ran them is gone); returns how many were released."""
    if not job_ids:
        return 0
    result = session.execute(update(Job).where(Job.id.in_(job_ids), Job.state.in_(RUNNING))
                             .values(state="queued", progress=0.0, worker=None, lease_until=None, updated_at=utcnow())
                             .execution_options(synchronize_session=False))
    return result.rowcount


def retry(session: Session, job_id: int) -> Job | None:
    """Queue a failed job again with its attempts reset; None when there is no such failed job."""
    result = session.execute(update(Job).where(Job.id == job_id, Job.state == "failed")
                             .values(state="queued", attempts=0, progress=0.0, finished_at=None, lease_until=None,
                                     updated_at=utcnow())
                             .execution_options(synchronize_session=False))
    return session.get(Job, job_id, populate_existing=True) if result.rowcount == 1 else None


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(session: Session, *, state: str | None = None, batch: str | None = None, limit: int = 100,
              offset: int = 0) -> list[Job]:
    """Jobs, newest first, optionally of one state and/or one batch."""
    query = select(Job)
    if state is not None:
        if state not in JOB_STATES:
            raise ValueError(f"state {state!r} is not one of {', '.join(JOB_STATES)}")
        query = query.where(Job.state == state)
    if batch is not None:
        query = query.where(Job.batch == batch)
    return list(session.scalars(query.order_by(Job.id.desc()).offset(offset).limit(limit)))


def batch_counts(session: Session, batch: str) -> dict[str, int]:
    """Jobs of ``batch`` per state (every state present, zeros included)."""
    counts = dict.fromkeys(JOB_STATES, 0)
    for state, n in session.execute(select(Job.state, func.count()).where(Job.batch == batch).group_by(Job.state)):
        counts[state] = n
    return counts


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they are stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def complete(session: Session, job: dict[str, Any], worker: str, analysis: dict[str, Any]) -> str:
    """Store a job's analysis as a call and mark the job done, in the caller's one transaction, so a
    job is stored exactly once however often it ran. Returns the call id: the analysis's own, or,
    when another upload already holds that id, the id with ``~<job id>`` added (nothing is replaced).
    Raises ``LostLease`` when the worker no longer holds the job."""
    from api.storage.calls import save_analysis
    from api.storage.models import Call

    call_id = str(analysis["call_id"])
    holder = session.execute(select(Call.job_id).where(Call.call_id == call_id)).first()
    if holder is not None and holder.job_id != job["id"]:
        call_id = f"{call_id[:180]}~{job['id']}"
    analysis["call_id"] = call_id
    finish(session, job["id"], worker, call_id)
    audio = job["stored_path"] if job["kind"] == "recording" else (job.get("meta") or {}).get("_audio_path")
    save_analysis(session, analysis, job_id=job["id"], audio_path=audio)
    return call_id
