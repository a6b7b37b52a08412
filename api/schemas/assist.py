"""Messages of the agent-assist WebSocket (``WS /api/assist``; docs/agent-assist.md).

Client messages are JSON text frames checked here (an unknown field is an error, so a typo is
named instead of ignored); audio goes in binary frames (``CHANNELS``). Server messages are built
from the ``*Out`` models, so what the document promises is what is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SAMPLE_RATE = 16000
CHANNELS = {0: "agent", 1: "customer"}  # first byte of a binary frame
MAX_TEXT = 2000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CrmHistory(_In):
    """What the business system knows of the customer's recent contacts (all optional)."""

    contacts_30d: int | None = Field(None, ge=0)
    complaints_90d: int | None = Field(None, ge=0)
    repeat_within_24h: bool | None = None


class StartIn(_In):
    """Opens the session: who the call is with and what kind of call it is."""

    type: Literal["start"]
    call_id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    customer_id: str | None = Field(None, min_length=1, max_length=100)
    agent_id: str | None = Field(None, min_length=1, max_length=100,
                                 description="qa/admin sessions only; an agent's session carries the token's agent id")
    direction: Literal["inbound", "outbound"]
    industry: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
    queue: str | None = Field(None, max_length=100)
    sample_rate: int = SAMPLE_RATE
    mode: Literal["audio", "text"] = "audio"
    partials: bool = True
    endpoint_ms: int = Field(480, ge=200, le=2000)
    started_at: datetime | None = None
    history: CrmHistory | None = None

    @field_validator("sample_rate")
    @classmethod
    def _rate(cls, value: int) -> int:
        if value != SAMPLE_RATE:
            raise ValueError(f"audio must be {SAMPLE_RATE} Hz 16-bit little-endian mono PCM per channel, not {value} Hz")
        return value


class UtteranceIn(_In):
    """A finished utterance transcribed by the desktop (text mode)."""

    type: Literal["utterance"]
    role: Literal["agent", "customer"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _times(self) -> UtteranceIn:
        if not self.text.strip():
            raise ValueError("text is blank")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class EndIn(_In):
    """The call is over."""

    type: Literal["end"]


CLIENT_MESSAGES: dict[str, type[_In]] = {"start": StartIn, "utterance": UtteranceIn, "end": EndIn}


class Flag(BaseModel):
    code: str
    name: str
    source: Literal["history", "call"]
    detail: str = ""


class SessionOut(BaseModel):
    id: str
    call_id: str
    agent_id: str | None
    customer_id: str | None
    direction: str
    industry: str
    queue: str | None
    mode: str
    rulebook: str | None
    flags: list[Flag]
    earlier_calls: int


class ReadyOut(BaseModel):
    type: Literal["ready"] = "ready"
    session: SessionOut


class PartialOut(BaseModel):
    type: Literal["partial"] = "partial"
    utterance: int
    role: str
    text: str
    start: float


class DroppedOut(BaseModel):
    type: Literal["dropped"] = "dropped"
    utterance: int
    role: str
    reason: str


class FinalOut(BaseModel):
    type: Literal["final"] = "final"
    turn: int
    utterance: int | None
    role: str
    text: str
    start: float | None
    end: float | None
    confidence: float | None = None
    decode_s: float | None = None


class ReasonOut(BaseModel):
    code: str
    name: str
    score: float


class ScriptPointOut(BaseModel):
    code: str
    name: str
    track: str
    done: list[str]
    skipped: list[str]


class ComplianceItem(BaseModel):
    rule: str
    name: str
    code: str | None
    severity: str
    status: Literal["pending", "missing", "violated"]
    turn: int | None = None
    evidence: str | None = None


class CompetitorCard(BaseModel):
    brand: str
    mention: str
    dimension: str
    turn: int
    counter_points: list[str]


class SuggestionsOut(BaseModel):
    type: Literal["suggestions"] = "suggestions"
    turn: int
    reason: ReasonOut | None
    next_script_point: ScriptPointOut | None
    missing_compliance: list[ComplianceItem]
    competitor_card: CompetitorCard | None
    flags: list[Flag]
    alerts: list[ComplianceItem]


class EndedOut(BaseModel):
    type: Literal["ended"] = "ended"
    call_id: str
    turns: int
    stored: bool
    qa_score: int | None = None


class ErrorOut(BaseModel):
    type: Literal["error"] = "error"
    message: str


def out(message: BaseModel) -> dict[str, Any]:
    """A server message as the JSON object sent."""
    return message.model_dump(mode="json", exclude_none=False)
