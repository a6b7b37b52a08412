"""Request and response shapes of the call routes: the filtered list, one call, search snippets."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD is a day here (pydantic alone would read 0 as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{value!r} is not a day like 2026-10-31")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day written YYYY-MM-DD."""


class Problem(BaseModel):
    """A refused request: ``detail`` is a message naming the problem, or FastAPI's list of field errors."""

    detail: str | list[dict[str, Any]]


AUTH_ERRORS = {401: {"model": Problem, "description": "Missing or unknown API token."},
               422: {"model": Problem, "description": "A bad parameter, named in the message."}}

SortKey = Literal["started_at", "risk_score", "qa_score", "duration_s"]
ReviewState = Literal["none", "reviewed", "appealed", "ruled"]


class CallQuery(BaseModel):
    """Query parameters of ``GET /api/calls``; every filter is optional and all given ones must hold."""

    model_config = ConfigDict(extra="forbid")
    date_from: Day | None = Field(default=None, description="First call day (the call's local date).")
    date_to: Day | None = Field(default=None, description="Last call day, inclusive.")
    agent: str | None = Field(default=None, max_length=100, description="Agent id (agents: only their own).")
    queue: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=200, description="A call reason code (any of the call's "
                                                                         "reasons, not only the primary one).")
    violation: str | None = Field(default=None, max_length=200, description="A QA rule code the call violates.")
    risk_min: float | None = Field(default=None, ge=0, le=1, description="Complaint risk score at least this.")
    competitor: str | None = Field(default=None, max_length=200, description="A competitor brand mentioned.")
    lead: str | None = Field(default=None, max_length=200,
                             description="A lead product, or `any` for every call with a lead.")
    direction: str | None = Field(default=None, max_length=20, description="inbound or outbound.")
    review: ReviewState | None = Field(
        default=None, description="Review state: none (never reviewed), reviewed, appealed (appeal not yet "
                                  "ruled), ruled.")
    q: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Full-text search: the query is cut into words with jieba, like the transcripts, and a call "
                    "must have every word (AND) inside one of its transcript words (a one-character word must "
                    "be a transcript word itself). PII is not searchable: the index holds masked text.")
    sort: SortKey = "started_at"
    order: Literal["asc", "desc"] = "desc"
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _dates_in_order(self) -> CallQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self


class Hit(BaseModel):
    start: int
    end: int


class Snippet(BaseModel):
    """Text around a search hit in one turn; ``hits`` are offsets in ``text``; ``prefix``/``suffix``
    say whether the turn goes on before / after the shown text."""

    turn: int
    role: str | None
    text: str
    prefix: bool
    suffix: bool
    hits: list[Hit]


class LeadTag(BaseModel):
    intent: str | None
    product: str | None


class CallItem(BaseModel):
    """One call in a list."""

    call_id: str
    started_at: str | None = Field(description="Start time as the call's metadata gave it (ISO 8601).")
    day: str | None
    agent_id: str | None
    customer_id: str | None
    queue: str | None
    direction: str | None
    duration_s: float | None
    primary_reason: str | None
    reasons: list[str]
    risk_score: float | None
    qa_score: float | None
    lead: LeadTag | None
    competitors: list[str]
    violations: list[str]
    snippets: list[Snippet] = Field(default_factory=list, description="Search hits (only with `q`).")


class CallPage(BaseModel):
    """One page of a call list and how many calls match in all."""

    total: int
    page: int
    page_size: int
    sort: str
    order: str
    terms: list[str] = Field(default_factory=list, description="The words searched for (with `q`).")
    items: list[CallItem]


class TurnOut(BaseModel):
    """One turn of the transcript (its text masked where it holds PII the caller may not see)."""

    model_config = ConfigDict(extra="allow")
    index: int
    role: str | None = None
    text: str = ""
    start: float | None = None
    end: float | None = None
    confidence: float | None = None
    agitation: float | None = None


class Findings(BaseModel):
    """What the pipeline found in the call (the analysis contract of DESIGN.md)."""

    reasons: list[dict[str, Any]] = Field(default_factory=list)
    script_points: list[dict[str, Any]] = Field(default_factory=list)
    competitors: list[dict[str, Any]] = Field(default_factory=list)
    lead: dict[str, Any] | None = None
    sentiment: dict[str, Any] | None = None
    qa: dict[str, Any] | None = Field(default=None, description="The machine's QA result.")
    reviewed_qa: dict[str, Any] | None = Field(
        default=None, description="The QA result after review and appeal, when it differs from the machine's.")
    complaint_risk: dict[str, Any] | None = None
    outcome: dict[str, Any] | str | None = None
    acoustics: dict[str, Any] | None = None
    pii: list[dict[str, Any]] = Field(default_factory=list, description="PII spans (values only with PII rights).")


class CallDetail(BaseModel):
    """One call: metadata, transcript and findings."""

    call_id: str
    started_at: str | None
    day: str | None
    direction: str | None
    industry: str | None
    queue: str | None
    agent_id: str | None
    customer_id: str | None
    duration_s: float | None
    job_id: int | None
    audio_url: str | None = Field(description="Where the recording is served, or null without one.")
    pii_masked: bool
    path: list[dict[str, Any]] | None = None
    history: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    transcript: list[TurnOut]
    findings: Findings
