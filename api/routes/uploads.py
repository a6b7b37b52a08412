"""Routes: uploads (recordings and transcripts, many per request), jobs and batches (QA and admin)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api.auth import allowed
from api.jobs.intake import MultipartReceiver, UploadError, accept_files, parse_metadata
from api.schemas.uploads import BatchOut, JobOut, JobState, UploadMetadata, UploadOut
from api.storage import jobs as queue
from api.storage.audit import record
from api.storage.models import Job


def _error(text: str) -> dict:
    return {"description": text, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"}}}}}}


router = APIRouter(tags=["uploads"], responses={401: _error("Missing or unknown API token"),
                                                 403: _error("The token's role may not do this (qa and admin may)")})

JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Job id")]

UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["files"],
        "additionalProperties": False,
        "properties": {
            "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
                      "description": "Recordings (.wav .mp3 .m4a .ogg .opus .flac) or transcripts (.json, "
                                     "corpus format); each checked by extension and content, and by size"},
            "metadata": {**UploadMetadata.model_json_schema(), "description": "JSON object applied to every "
                         "file (unknown fields are refused); it overrides the same fields of a transcript"},
        },
    }, "encoding": {"metadata": {"contentType": "application/json"}}}},
}


@router.post("/api/uploads", response_model=UploadOut, status_code=status.HTTP_202_ACCEPTED,
             openapi_extra={"requestBody": UPLOAD_BODY},
             responses={400: _error("Malformed multipart body"),
                        413: _error("Too many files, or an oversized metadata field"),
                        415: _error("Not multipart/form-data"),
                        422: _error("Bad metadata (the field is named) or an unexpected form part")})
async def upload(request: Request, who: allowed("qa")) -> UploadOut:
    """Upload one or many recordings or transcripts; each file is accepted (a job is queued),
    recognised as a duplicate of earlier content (its job is returned), or rejected with the reason.
    The file is on disk before its job exists, so an accepted upload survives any restart."""
    config, db = request.app.state.config, request.app.state.db
    try:
        receiver = MultipartReceiver(request.headers.get("content-type"), config.upload_dir, config.max_upload_bytes)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.message) from None
    try:
        async for chunk in request.stream():
            await run_in_threadpool(receiver.feed, chunk)
        receiver.finish()
        meta = parse_metadata(receiver.fields.get("metadata"))
        if not receiver.files:
            raise UploadError(422, "no files: send one or more parts named 'files'")
        batch = uuid.uuid4().hex[:16]
        results = await run_in_threadpool(accept_files, db, config, receiver.files, meta, who.name, batch)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.message) from None
    except ClientDisconnect:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the upload was interrupted; nothing was kept") from None
    finally:
        receiver.discard()
    return UploadOut(batch=batch, files=results, accepted=sum(r.status == "accepted" for r in results),
                     duplicates=sum(r.status == "duplicate" for r in results),
                     rejected=sum(r.status == "rejected" for r in results))


@router.get("/api/jobs", response_model=list[JobOut])
def list_jobs(request: Request, who: allowed("qa"), state: JobState | None = None,
              batch: Annotated[str | None, Query(max_length=64)] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> list[JobOut]:
    """Jobs, newest first, optionally of one state and/or one upload batch."""
    with request.app.state.db.session() as session:
        return [job_out(j) for j in queue.list_jobs(session, state=state, batch=batch, limit=limit, offset=offset)]


@router.get("/api/jobs/{job_id}", response_model=JobOut, responses={404: _error("No such job")})
def get_job(job_id: JobId, request: Request, who: allowed("qa")) -> JobOut:
    """One job: its state, progress, attempts, the reason of a failure, the call it produced."""
    with request.app.state.db.session() as session:
        job = queue.get_job(session, job_id)
        if job is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
        return job_out(job)


@router.post("/api/jobs/{job_id}/retry", response_model=JobOut,
             responses={404: _error("No such job"), 409: _error("The job has not failed")})
def retry_job(job_id: JobId, request: Request, who: allowed("qa")) -> JobOut:
    """Queue a failed job again, its attempts reset (after the cause, e.g. a missing model, is fixed)."""
    with request.app.state.db.session() as session:
        job = queue.get_job(session, job_id)
        if job is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
        if job.state != "failed":
            raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} is {job.state}; only failed jobs are retried")
        job = queue.retry(session, job_id)
        record(session, who.name, "job.retry", f"job:{job_id}")
        return job_out(job)


@router.get("/api/batches/{batch}", response_model=BatchOut, responses={404: _error("No such batch")})
def batch_summary(batch: Annotated[str, Path(max_length=64)], request: Request, who: allowed("qa")) -> BatchOut:
    """How far an upload batch has got: jobs per state, mean progress, and its jobs. Duplicates are
    not part of the batch (they keep their first upload's job)."""
    with request.app.state.db.session() as session:
        counts = queue.batch_counts(session, batch)
        total = sum(counts.values())
        if not total:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no jobs in batch {batch!r}")
        jobs = [job_out(j) for j in queue.list_jobs(session, batch=batch, limit=10_000)]
    return BatchOut(batch=batch, total=total, counts=counts, jobs=jobs,
                    progress=round(sum(j.progress for j in jobs) / len(jobs), 3),
                    finished=counts["done"] + counts["failed"] == total)


def job_out(job: Job) -> JobOut:
    """The API view of a job (internal metadata keys, which start with '_', left out)."""
    return JobOut(id=job.id, filename=job.filename, kind=job.kind, state=job.state, progress=round(job.progress, 3),
                  attempts=job.attempts, error=job.error, call_id=job.call_id, batch=job.batch, size=job.size,
                  sha256=job.content_hash, uploaded_by=job.uploaded_by,
                  metadata={k: v for k, v in (job.meta or {}).items() if not k.startswith("_")},
                  created_at=queue.aware(job.created_at), updated_at=queue.aware(job.updated_at),
                  finished_at=queue.aware(job.finished_at))
