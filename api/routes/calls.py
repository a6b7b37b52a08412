"""Routes: calls. The filtered and searched list, one call with transcript and findings, its recording.

Agents see only their own calls (403 for another agent's); callers without the PII right see
masked text everywhere (transcript, quotes, search snippets).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from sqlalchemy import select

from api.auth import Caller, Principal
from api.schemas.calls import (
    AUTH_ERRORS,
    CallDetail,
    CallItem,
    CallPage,
    CallQuery,
    Findings,
    LeadTag,
    TurnOut,
)
from api.storage.calls import (
    CallFilters,
    CallRow,
    analyses_of,
    list_calls,
    mask_pii,
    query_terms,
    search_snippets,
)
from api.storage.models import Call
from api.storage.reviews import reviewed_analyses

router = APIRouter(tags=["calls"])

AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg",
               ".opus": "audio/ogg", ".flac": "audio/flac"}
FORBIDDEN = {**AUTH_ERRORS, 403: {"description": "An agent asking for another agent's call."}}
NOT_FOUND = {404: {"description": "No such call (or, for audio, no recording)."}}


@router.get("/api/calls", response_model=CallPage, responses=FORBIDDEN)
def calls(request: Request, who: Caller, query: Annotated[CallQuery, Query()]) -> CallPage:
    """Calls matching every given filter, one page at a time, with the total count; with ``q`` each
    call carries the snippets where the words were found. Agents get only their own calls."""
    agent = query.agent
    if who.role == "agent":
        if agent is not None and agent != who.agent_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "agents see only their own calls")
        agent = who.agent_id
    filters = CallFilters(
        date_from=query.date_from.isoformat() if query.date_from else None,
        date_to=query.date_to.isoformat() if query.date_to else None,
        agent=agent, queue=query.queue, reason=query.reason, violation=query.violation, risk_min=query.risk_min,
        competitor=query.competitor, lead=query.lead, direction=query.direction, review=query.review, q=query.q)
    with request.app.state.db.session() as session:
        try:
            total, rows = list_calls(session, filters, sort=query.sort, descending=query.order == "desc",
                                     page=query.page, page_size=query.page_size)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
        terms = query_terms(query.q) if query.q else []
        if terms and rows:
            analyses = analyses_of(session, [r.call_id for r in rows])
            for row in rows:
                seen = _as_seen_by(who, analyses.get(row.call_id) or {})
                row.snippets = search_snippets(seen, terms)
    return CallPage(total=total, page=query.page, page_size=query.page_size, sort=query.sort, order=query.order,
                    terms=terms, items=[_item(r) for r in rows])


@router.get("/api/calls/{call_id}", response_model=CallDetail, responses={**FORBIDDEN, **NOT_FOUND})
def call_detail(call_id: str, request: Request, who: Caller) -> CallDetail:
    """One call: metadata, the transcript, every finding, and the QA result after review when there is one."""
    with request.app.state.db.session() as session:
        call = session.get(Call, call_id)
        _check_access(call, call_id, who)
        analysis = call.analysis
        machine_qa = copy.deepcopy(analysis.get("qa"))
        reviewed = reviewed_analyses(session, {call_id: copy.deepcopy(analysis)}).get(call_id) or analysis
        job_id, audio = call.job_id, bool(call.audio_path)
    seen = _as_seen_by(who, analysis)
    changed = reviewed.get("qa") != machine_qa
    findings = Findings(
        reasons=seen.get("reasons") or [], script_points=seen.get("script_points") or [],
        competitors=seen.get("competitors") or [], lead=seen.get("lead"), sentiment=seen.get("sentiment"),
        qa=seen.get("qa"), reviewed_qa=_as_seen_by(who, reviewed).get("qa") if changed else None,
        complaint_risk=seen.get("complaint_risk"), outcome=seen.get("outcome"), acoustics=seen.get("acoustics"),
        pii=seen.get("pii") or [])
    return CallDetail(
        call_id=call_id, started_at=_text(seen.get("started_at")), day=_text(seen.get("started_at"), 10),
        direction=seen.get("direction"), industry=seen.get("industry"), queue=seen.get("queue"),
        agent_id=seen.get("agent_id"), customer_id=seen.get("customer_id"), duration_s=seen.get("duration_s"),
        job_id=job_id, audio_url=f"/api/calls/{call_id}/audio" if audio else None, pii_masked=not who.see_pii,
        path=seen.get("path") if isinstance(seen.get("path"), list) else None,
        history=seen.get("history") if isinstance(seen.get("history"), dict) else None,
        model=seen.get("model") if isinstance(seen.get("model"), dict) else None,
        transcript=[TurnOut.model_validate({**t, "index": i}) for i, t in enumerate(seen.get("turns") or [])],
        findings=findings)


@router.get("/api/calls/{call_id}/audio", response_class=FileResponse,
            responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}}, "description": "The recording."},
                       206: {"description": "Part of the recording (HTTP Range request)."},
                       416: {"description": "A Range outside the recording."}, **FORBIDDEN, **NOT_FOUND})
def call_audio(call_id: str, request: Request, who: Caller) -> FileResponse:
    """The call's stored recording; HTTP Range requests get 206 with the asked bytes (players seek)."""
    with request.app.state.db.session() as session:
        row = session.execute(select(Call.agent_id, Call.audio_path).where(Call.call_id == call_id)).first()
        _check_access(row, call_id, who)
    if not row.audio_path:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"call {call_id!r} has no recording")
    path = Path(row.audio_path)
    if not path.is_absolute():
        path = request.app.state.config.data_dir / path
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the recording of call {call_id!r} is missing from storage")
    media_type = AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media_type, filename=f"{call_id}{path.suffix.lower()}",
                        content_disposition_type="inline")


def _check_access(row: Any, call_id: str, who: Principal) -> None:
    """404 for an unknown call, 403 when the caller may not see it."""
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call {call_id!r}")
    if not who.can_see_call(row.agent_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"call {call_id!r} belongs to another agent")


def _as_seen_by(who: Principal, analysis: dict[str, Any]) -> dict[str, Any]:
    """The analysis as the caller may see it: PII masked unless they hold the right."""
    return analysis if who.see_pii else mask_pii(analysis)


def _text(value: Any, length: int | None = None) -> str | None:
    return str(value)[:length] if value else None


def _item(row: CallRow) -> CallItem:
    leads = row.tags.get("lead") or []
    product = leads[0] if leads else None
    return CallItem(
        call_id=row.call_id, started_at=row.started_at, day=row.day, agent_id=row.agent_id,
        customer_id=row.customer_id, queue=row.queue, direction=row.direction, duration_s=row.duration_s,
        primary_reason=row.primary_reason, risk_score=row.risk_score,
        # the primary reason first, as in the analysis; the others in the tags' order
        reasons=sorted(row.tags.get("reason", []), key=lambda code: code != row.primary_reason),
        qa_score=row.qa_score,
        lead=LeadTag(intent=row.lead_intent, product=None if product == "?" else product) if leads else None,
        competitors=row.tags.get("competitor", []), violations=row.tags.get("violation", []),
        snippets=row.snippets)
