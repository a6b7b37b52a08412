"""Routes: agent assist, ``WS /api/assist`` (the message protocol is in docs/agent-assist.md)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket

from api.assist.session import AssistSession
from api.auth import websocket_principal
from api.schemas.assist import ErrorOut, out

router = APIRouter(tags=["assist"])

ASSIST_ROLES = ("agent", "qa", "admin")


@router.websocket("/api/assist")
async def assist(websocket: WebSocket) -> None:
    """Live help during a call: the desktop streams audio (or utterance texts), the server answers
    with transcripts and suggestions; the call is stored when it ends. Token as ``?token=`` or
    ``Authorization: Bearer``; closes with 4401 (no valid token) or 4403 (role not allowed)."""
    who = await asyncio.to_thread(websocket_principal, websocket)
    await websocket.accept()
    if who is None:
        await _refuse(websocket, 4401, "missing or unknown API token (use ?token= or an Authorization header)")
        return
    if who.role not in ASSIST_ROLES:
        await _refuse(websocket, 4403, f"role {who.role!r} may not use agent assist (agent, qa, admin may)")
        return
    await AssistSession(websocket, who).run()


async def _refuse(websocket: WebSocket, code: int, message: str) -> None:
    await websocket.send_json(out(ErrorOut(message=message)))
    await websocket.close(code=code, reason=message[:120])
