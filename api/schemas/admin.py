"""Request and response shapes of the admin routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "qa", "agent", "sales"]
    agent_id: str | None = Field(default=None, max_length=100)
    senior: bool = False
    see_pii: bool | None = None


class TokenOut(BaseModel):
    name: str
    role: str
    token: str


class WhoAmI(BaseModel):
    name: str
    role: str
    agent_id: str | None
    senior: bool
    see_pii: bool


class AuditOut(BaseModel):
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    at: datetime
