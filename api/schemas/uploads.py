"""Request and response shapes of uploads, jobs and batches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

FileStatus = Literal["accepted", "duplicate", "rejected"]
JobState = Literal["queued", "transcribing", "analysing", "done", "failed"]


class UploadMetadata(BaseModel):
    """What is known about the uploaded calls, applied to every file of the request; it overrides
    the same fields inside a transcript. Unknown fields are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid")
    agent_id: str | None = Field(default=None, min_length=1, max_length=100)
    queue: str | None = Field(default=None, min_length=1, max_length=100)
    customer_id: str | None = Field(default=None, min_length=1, max_length=100)
    direction: Literal["inbound", "outbound"] | None = None
    industry: str | None = Field(default=None, min_length=1, max_length=40)
    started_at: Annotated[datetime, Strict()] | None = Field(default=None, description="When the call started, "
                                                             "ISO 8601 with offset, e.g. 2026-10-03T09:14:05+08:00")
    path: list[dict[str, Any]] | None = Field(default=None, description="Steps before the agent, e.g. "
                                              "[{\"channel\": \"ivr\", \"node\": \"1-2\", \"name\": \"话费查询\", \"result\": \"ok\"}]")
    history: dict[str, Any] | None = Field(default=None, description="Contact history, e.g. "
                                           "{\"contacts_30d\": 3, \"complaints_90d\": 1, \"repeat_within_24h\": true}")
    outcome: str | None = Field(default=None, min_length=1, max_length=40, description="How the call ended, from the business system")
    preferred_channel: str | None = Field(default=None, min_length=1, max_length=40)

    def fields_set(self) -> dict[str, Any]:
        """The fields given, JSON-ready (times as ISO strings), for the job's metadata."""
        return self.model_dump(mode="json", exclude_unset=True, exclude_none=True)


class FileResult(BaseModel):
    """What happened to one file of an upload."""

    filename: str
    status: FileStatus
    duplicate: bool = False
    job_id: int | None = None
    state: JobState | None = None
    kind: Literal["recording", "transcript"] | None = None
    size: int | None = None
    sha256: str | None = None
    reason: str | None = Field(default=None, description="Why the file was rejected")


class UploadOut(BaseModel):
    """Per-file results of one upload request and the batch its accepted files belong to."""

    batch: str
    accepted: int
    duplicates: int
    rejected: int
    files: list[FileResult]


class JobOut(BaseModel):
    """One job: an accepted upload on its way queued → transcribing → analysing → done / failed."""

    id: int
    filename: str
    kind: str
    state: JobState
    progress: float
    attempts: int = Field(description="Failed attempts so far (a job fails for good at max_attempts)")
    error: str | None = Field(description="Reason of the last failure (kept while retrying)")
    call_id: str | None
    batch: str | None
    size: int
    sha256: str
    metadata: dict[str, Any]
    uploaded_by: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class BatchOut(BaseModel):
    """How far one upload batch has got."""

    batch: str
    total: int
    counts: dict[str, int] = Field(description="Jobs per state (every state listed, zeros included)")
    progress: float = Field(description="Mean progress of the batch's jobs, 0..1")
    finished: bool = Field(description="Every job is done or failed")
    jobs: list[JobOut]
