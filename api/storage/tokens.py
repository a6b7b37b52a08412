"""API tokens: created once (the secret is shown only then), stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import ApiToken

ROLES = ("admin", "qa", "agent", "sales")


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, name: str, role: str, *, agent_id: str | None = None, senior: bool = False,
                 see_pii: bool | None = None, secret: str | None = None) -> str:
    """Store a new token and return its secret. Agents must name their agent id."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role == "agent" and not agent_id:
        raise ValueError("an agent token needs the agent id it belongs to")
    secret = secret or secrets.token_urlsafe(24)
    session.add(ApiToken(token_hash=token_hash(secret), name=name, role=role, agent_id=agent_id, senior=senior,
                         see_pii=role == "admin" if see_pii is None else see_pii))
    session.flush()
    return secret


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The active token with this secret, if any."""
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret), ApiToken.active))
