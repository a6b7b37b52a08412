"""Routes: health, API tokens (admin) and the audit log (admin)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth import Caller, allowed
from api.schemas.admin import AuditOut, TokenIn, TokenOut, WhoAmI
from api.storage.audit import record
from api.storage.models import AuditEntry
from api.storage.tokens import create_token

router = APIRouter(tags=["admin"])


@router.get("/api/health")
def health(request: Request, response: Response) -> dict[str, str]:
    """Liveness: the service answers. The ``X-Callscope-Warm`` header says whether the dashboards and
    lists built at start-up are ready (yes / no; absent when no warm-up runs)."""
    warm = getattr(request.app.state, "warm", None)
    if warm is not None:
        response.headers["X-Callscope-Warm"] = "yes" if warm else "no"
    return {"status": "ok"}


@router.get("/api/me", response_model=WhoAmI)
def whoami(who: Caller) -> WhoAmI:
    """The caller's token name and role."""
    return WhoAmI(name=who.name, role=who.role, agent_id=who.agent_id, senior=who.senior, see_pii=who.see_pii)


@router.post("/api/tokens", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def new_token(body: TokenIn, request: Request, who: allowed("admin")) -> TokenOut:
    """Create an API token; its secret is returned only this once."""
    try:
        with request.app.state.db.session() as session:
            secret = create_token(session, body.name, body.role, agent_id=body.agent_id, senior=body.senior,
                                  see_pii=body.see_pii)
            record(session, who.name, "token.create", f"token:{body.name}", role=body.role, agent_id=body.agent_id)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a token named {body.name!r} exists") from None
    return TokenOut(name=body.name, role=body.role, token=secret)


@router.get("/api/audit", response_model=list[AuditOut])
def audit_log(request: Request, who: allowed("admin"), limit: int = 100) -> list[AuditOut]:
    """The newest audit entries."""
    limit = max(1, min(limit, 1000))
    with request.app.state.db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
        return [AuditOut(actor=r.actor, action=r.action, target=r.target, detail=r.detail, at=r.at) for r in rows]
