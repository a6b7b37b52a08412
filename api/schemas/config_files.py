"""Response shapes of the rule-book and taxonomy routes (requests are YAML text)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class ProblemOut(BaseModel):
    """One reason a file cannot be used: file, line, rule and the message (with its code)."""

    file: str
    line: int | None = None
    rule: str | None = None
    code: str | None = None
    message: str


class ValidationOut(BaseModel):
    valid: bool
    errors: list[ProblemOut]


class RulebookOut(BaseModel):
    """A rule book in force: bundled, or replaced / added through the API (with its version)."""

    name: str
    source: Literal["bundled", "replaced", "added"]
    version: int | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


class ReplacedOut(BaseModel):
    """A stored replacement: the new version id and the one it replaced (null: the bundled file)."""

    name: str
    version: int
    previous: int | None = None
