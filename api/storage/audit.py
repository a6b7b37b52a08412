"""The audit log: every write through the API leaves one entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.storage.models import AuditEntry


def record(session: Session, actor: str, action: str, target: str, **detail: Any) -> None:
    """Add an audit entry in the caller's transaction (so it exists exactly when the write does)."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))
