"""Request and response shapes of review and appeal (复核/申诉)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Verdict = Literal["right", "wrong"]


def _no_nul(text: str | None) -> str | None:
    if text is not None and "\x00" in text:
        raise ValueError("a comment cannot contain NUL characters")
    return text


Comment = Annotated[str, Field(max_length=4000), AfterValidator(_no_nul)]
Explanation = Annotated[str, Field(min_length=1, max_length=4000, pattern=r"\S"), AfterValidator(_no_nul)]
State = Literal["machine", "reviewed_right", "reviewed_wrong", "appealed", "upheld", "overturned"]


class ReviewIn(BaseModel):
    """A reviewer's judgement of one finding; ``score_adjustment``: points added to (or, negative, taken
    from) the call's score while the finding stands (a re-review replaces it)."""

    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    score_adjustment: float | None = Field(default=None, ge=-100, le=100)
    comment: Comment | None = None


class AppealIn(BaseModel):
    """The agent's appeal of a finding on their own call: why it is wrong."""

    model_config = ConfigDict(extra="forbid")
    comment: Explanation


class RulingIn(BaseModel):
    """A senior reviewer's final word on an appealed finding: ``right`` upholds it, ``wrong`` overturns it."""

    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    comment: Explanation


class ScoreIn(BaseModel):
    """A per-call score adjustment in points (±); the latest one is in force."""

    model_config = ConfigDict(extra="forbid")
    adjustment: float = Field(ge=-100, le=100)
    comment: Comment | None = None


class EventOut(BaseModel):
    """One step, with who and when."""

    id: int
    action: Literal["review", "appeal", "ruling", "score"]
    verdict: Verdict | None = None
    score_adjustment: float | None = None
    comment: str | None = None
    actor: str
    at: datetime


class FindingThread(BaseModel):
    """A finding, its state and every step taken on it."""

    finding: str
    rule: str
    name: str | None = None
    code: str | None = None
    turn: int | None = None
    start: float | None = None
    points: float | None = None
    fatal: bool = False
    state: State
    verdict: Verdict | None = Field(None, description="the final word so far (ruling, else latest review); "
                                                      "null: the machine's finding, unreviewed")
    appeal_open: bool = False
    events: list[EventOut]


class StaleThread(BaseModel):
    """Steps on a finding the call's current analysis no longer has (the call was analysed again)."""

    finding: str
    rule: str
    events: list[EventOut]


class ReviewsOut(BaseModel):
    """A call's review and appeal threads and its reviewed score."""

    call_id: str
    agent_id: str | None = None
    rulebook: str | None = None
    machine_score: float | None = None
    score: float | None = Field(None, description="the reviewed score (findings judged wrong removed, adjustments)")
    reviewed: bool
    findings: list[FindingThread]
    score_adjustments: list[EventOut]
    stale: list[StaleThread]


class StepOut(BaseModel):
    """What a step did: the event stored, the finding's new state (null for a per-call adjustment) and
    the call's reviewed score."""

    event: EventOut
    finding: str
    state: State | None = None
    score: float | None = None


class AgreementRow(BaseModel):
    """Reviewer agreement with the machine for one rule (latest review of each finding)."""

    rule: str
    reviewed: int
    confirmed: int
    rejected: int
    agreement: float = Field(description="confirmed / reviewed")
    appealed: int
    overturned: int
