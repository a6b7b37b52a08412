"""Who is calling: bearer tokens with roles, as FastAPI dependencies.

``Principal`` is what routes see. ``require("qa", "admin")`` admits those roles (admin always);
agents are limited to their own calls by ``can_see_call``; PII is shown only with ``see_pii``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.storage.tokens import find_token

bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer <token>`")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: token name, role, agent id (agents), senior reviewer, may see PII."""

    name: str
    role: str
    agent_id: str | None = None
    senior: bool = False
    see_pii: bool = False

    def can_see_call(self, agent_id: str | None) -> bool:
        """Agents see only their own calls; every other role sees all."""
        return self.role != "agent" or (agent_id is not None and agent_id == self.agent_id)


def principal_for(request_app, secret: str | None) -> Principal | None:
    """The principal of a token secret, or None when it is unknown or inactive."""
    if not secret:
        return None
    with request_app.state.db.session() as session:
        token = find_token(session, secret)
        if token is None:
            return None
        return Principal(token.name, token.role, token.agent_id, token.senior, token.see_pii)


def current_principal(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The authenticated caller (bearer token, or the pages' session cookie); 401 without a valid token."""
    secret = credentials.credentials if credentials else request.cookies.get("callscope_token")
    who = principal_for(request.app, secret)
    if who is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or unknown API token",
                            headers={"WWW-Authenticate": "Bearer"})
    return who


def websocket_principal(websocket: WebSocket) -> Principal | None:
    """The caller of a WebSocket: token from the ``token`` query parameter or the Authorization header."""
    secret = websocket.query_params.get("token")
    header = websocket.headers.get("authorization", "")
    if not secret and header.lower().startswith("bearer "):
        secret = header[7:]
    return principal_for(websocket.app, secret)


def require(*roles: str):
    """A dependency admitting the given roles (and admin); 403 for the others."""

    def check(who: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if who.role != "admin" and who.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {who.role!r} may not do this")
        return who

    return check


Caller = Annotated[Principal, Depends(current_principal)]
"""Any authenticated caller: ``def route(who: Caller)``."""


def allowed(*roles: str):
    """The type of a caller with one of ``roles`` (or admin): ``def route(who: allowed("qa"))``."""
    return Annotated[Principal, Depends(require(*roles))]
