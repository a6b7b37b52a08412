"""Routes: review and appeal (复核/申诉) of QA findings, and reviewer agreement with the machine per rule.

A finding is named ``<rule>@<turn>`` (``GET /api/calls/{id}/reviews`` lists them). QA reviewers judge
findings right / wrong; the agent appeals findings on their own calls; a senior reviewer rules on
an open appeal, finally. Every step is kept (who, when) and audited.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.orm import Session

from api.auth import Caller, Principal, allowed
from api.schemas.reviews import (
    AgreementRow,
    AppealIn,
    EventOut,
    FindingThread,
    ReviewIn,
    ReviewsOut,
    RulingIn,
    ScoreIn,
    StaleThread,
    StepOut,
)
from api.storage.audit import record
from api.storage.models import Call, ReviewEvent
from api.storage.reviews import (
    CALL_LEVEL,
    ReviewConflict,
    add_step,
    agreement,
    by_finding,
    events_for,
    findings_of,
    reviewed_analyses,
    thread_of,
)

router = APIRouter(tags=["reviews"])

NOT_FOUND = {404: {"description": "no such call, or the call has no such finding"}}
STEP_ERRORS = {**NOT_FOUND, 403: {"description": "role not allowed, or not the caller's call"},
               409: {"description": "the finding's state does not allow this step"}}


def _call(session: Session, call_id: str, who: Principal) -> Call:
    """The call, 404 if unknown, 403 if the caller (an agent) may not see it."""
    call = session.get(Call, call_id) if "\x00" not in call_id else None  # PostgreSQL refuses NUL
    if call is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call {call_id!r}")
    if not who.can_see_call(call.agent_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"call {call_id!r} is not one of your calls")
    return call


def _finding(call: Call, finding: str) -> dict[str, Any]:
    """The QA finding ``finding`` of the call, 404 naming it (and the call's findings) if absent."""
    findings = findings_of(call.analysis or {})
    if finding not in findings:
        known = ", ".join(findings) or "none"
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"call {call.call_id!r} has no finding {finding!r} (its findings: {known})")
    return findings[finding]


def _event(e: ReviewEvent) -> EventOut:
    at = e.at if e.at.tzinfo is not None else e.at.replace(tzinfo=UTC)  # SQLite returns UTC without its zone
    return EventOut(id=e.id, action=e.action, verdict=e.verdict, score_adjustment=e.score_adjustment,
                    comment=e.comment, actor=e.actor, at=at)


def _score(session: Session, call: Call) -> float | None:
    qa = reviewed_analyses(session, {call.call_id: call.analysis or {}})[call.call_id].get("qa") or {}
    return qa.get("score")


def _step(request: Request, who: Principal, call_id: str, finding: str, action: str, **values: Any) -> StepOut:
    """Check and store one step on a finding, audited in the same transaction."""
    with request.app.state.db.session() as session:
        call = _call(session, call_id, who)
        violation = _finding(call, finding)
        try:
            event = add_step(session, call_id, finding, violation["rule"], action, who.name, **values)
        except ReviewConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        record(session, who.name, f"review.{action}", f"call:{call_id}/finding:{finding}",
               event_id=event.id, **{k: v for k, v in values.items() if k != "comment" and v is not None})
        events = events_for(session, [call_id]).get(call_id, [])
        state = thread_of(e for e in events if e.finding == finding).state
        return StepOut(event=_event(event), finding=finding, state=state, score=_score(session, call))


@router.post("/api/calls/{call_id}/findings/{finding}/review", response_model=StepOut,
             status_code=status.HTTP_201_CREATED, responses=STEP_ERRORS)
def review_finding(call_id: str, finding: str, body: ReviewIn, request: Request, who: allowed("qa")) -> StepOut:
    """A QA reviewer marks a finding right or wrong, optionally adjusting the call's score (±points
    while the finding stands). Not allowed after a final ruling (409)."""
    return _step(request, who, call_id, finding, "review", verdict=body.verdict,
                 score_adjustment=body.score_adjustment, comment=body.comment)


@router.post("/api/calls/{call_id}/findings/{finding}/appeal", response_model=StepOut,
             status_code=status.HTTP_201_CREATED, responses=STEP_ERRORS)
def appeal_finding(call_id: str, finding: str, body: AppealIn, request: Request,
                   who: allowed("agent")) -> StepOut:
    """The agent appeals a finding on their own call with a comment (one open appeal at a time; none
    after a final ruling: 409)."""
    return _step(request, who, call_id, finding, "appeal", comment=body.comment.strip())


@router.post("/api/calls/{call_id}/findings/{finding}/ruling", response_model=StepOut,
             status_code=status.HTTP_201_CREATED, responses=STEP_ERRORS)
def rule_on_finding(call_id: str, finding: str, body: RulingIn, request: Request, who: allowed("qa")) -> StepOut:
    """A senior reviewer (qa token with ``senior``, or admin) rules finally on an open appeal:
    ``right`` upholds the finding, ``wrong`` overturns it. 409 when no appeal is open."""
    if who.role != "admin" and not who.senior:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a senior reviewer rules on appeals")
    return _step(request, who, call_id, finding, "ruling", verdict=body.verdict, comment=body.comment.strip())


@router.post("/api/calls/{call_id}/score", response_model=StepOut, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "no such call"}, 409: {"description": "the call has no QA result"}})
def adjust_score(call_id: str, body: ScoreIn, request: Request, who: allowed("qa")) -> StepOut:
    """A per-call score adjustment in points (±), replacing the call's earlier one; the reviewed score
    stays within 0..100 and a call with a fatal finding standing stays at 0."""
    with request.app.state.db.session() as session:
        call = _call(session, call_id, who)
        if not (call.analysis or {}).get("qa"):
            raise HTTPException(status.HTTP_409_CONFLICT, f"call {call_id!r} has no QA result to adjust")
        event = add_step(session, call_id, CALL_LEVEL, CALL_LEVEL, "score", who.name,
                         score_adjustment=body.adjustment, comment=body.comment)
        record(session, who.name, "review.score", f"call:{call_id}", event_id=event.id, adjustment=body.adjustment)
        return StepOut(event=_event(event), finding=CALL_LEVEL, state=None, score=_score(session, call))


@router.get("/api/calls/{call_id}/reviews", response_model=ReviewsOut,
            responses={404: {"description": "no such call"}, 403: {"description": "not the caller's call"}})
def call_reviews(call_id: str, request: Request, who: Caller) -> ReviewsOut:
    """Every finding of the call with its state (machine / reviewed_right / reviewed_wrong / appealed /
    upheld / overturned) and every step with who and when; the reviewed score. Agents: own calls only."""
    with request.app.state.db.session() as session:
        call = _call(session, call_id, who)
        analysis = call.analysis or {}
        qa = analysis.get("qa") or {}
        threads = by_finding(events_for(session, [call_id]).get(call_id, []))
        findings = []
        for fid, v in findings_of(analysis).items():
            events = threads.pop(fid, [])
            t = thread_of(events)
            findings.append(FindingThread(
                finding=fid, rule=v["rule"], name=v.get("name"), code=v.get("code"), turn=v.get("turn"),
                start=v.get("start"), points=v.get("points"), fatal=bool(v.get("fatal")), state=t.state,
                verdict=t.verdict, appeal_open=t.appeal_open, events=[_event(e) for e in events]))
        adjustments = [_event(e) for e in threads.pop(CALL_LEVEL, [])]
        stale = [StaleThread(finding=f, rule=evs[0].rule, events=[_event(e) for e in evs]) for f, evs in threads.items()]
        reviewed = reviewed_analyses(session, {call_id: analysis})[call_id].get("qa") or {}
        return ReviewsOut(call_id=call_id, agent_id=call.agent_id, rulebook=qa.get("rulebook"),
                          machine_score=qa.get("score"), score=reviewed.get("score"),
                          reviewed=bool(reviewed.get("reviewed")), findings=findings,
                          score_adjustments=adjustments, stale=stale)


@router.get("/api/reviews/agreement", response_model=list[AgreementRow])
def reviewer_agreement(request: Request, who: allowed("qa")) -> list[AgreementRow]:
    """Per rule: findings reviewed, confirmed by the reviewer, agreement rate with the machine, and
    how many were appealed / overturned; worst agreement first (the rules that need fixing)."""
    with request.app.state.db.session() as session:
        return [AgreementRow(**row) for row in agreement(session)]
