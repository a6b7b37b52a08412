"""Calls in the database: storing an analysis (with its filter tags and search terms) and reading it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.storage.models import Call, CallTag, CallTerm


def call_tags(analysis: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, value) facts lists filter on: reason codes, QA violation codes, competitor brands, lead product."""
    tags = {("reason", r["code"]) for r in analysis.get("reasons") or []}
    for v in (analysis.get("qa") or {}).get("violations") or []:
        code = v.get("code") or v.get("rule")
        if code:
            tags.add(("violation", code))
    tags |= {("competitor", c["brand"]) for c in analysis.get("competitors") or [] if c.get("brand")}
    lead = analysis.get("lead") or {}
    if lead.get("intent", "none") != "none":
        tags.add(("lead", lead.get("product") or "?"))
    return tags


def search_terms(analysis: dict[str, Any]) -> set[str]:
    """Distinct jieba words of the transcript (masked text where PII was found), for full-text search."""
    from nlp.text import words

    terms: set[str] = set()
    for turn in analysis.get("turns") or []:
        text = turn.get("masked_text") or turn.get("text") or ""
        terms |= {w.strip().lower() for w in words(text) if w.strip() and not _punctuation(w)}
    return {t[:100] for t in terms}


def _punctuation(word: str) -> bool:
    return all(not ch.isalnum() for ch in word)


def save_analysis(session: Session, analysis: dict[str, Any], *, job_id: int | None = None,
                  audio_path: str | None = None) -> Call:
    """Insert or replace the call of ``analysis`` with its tags and search terms."""
    call_id = analysis["call_id"]
    started = _when(analysis.get("started_at"))
    lead = analysis.get("lead") or {}
    risk = analysis.get("complaint_risk") or {}
    qa = analysis.get("qa") or {}
    reasons = analysis.get("reasons") or []
    session.execute(delete(CallTag).where(CallTag.call_id == call_id))
    session.execute(delete(CallTerm).where(CallTerm.call_id == call_id))
    call = session.get(Call, call_id) or Call(call_id=call_id)
    call.job_id = job_id if job_id is not None else call.job_id
    call.started_at = started
    call.day = str(analysis.get("started_at"))[:10] if analysis.get("started_at") else None
    call.direction = analysis.get("direction")
    call.industry = analysis.get("industry")
    call.queue = analysis.get("queue")
    call.agent_id = analysis.get("agent_id")
    call.customer_id = analysis.get("customer_id")
    call.duration_s = analysis.get("duration_s")
    call.primary_reason = reasons[0]["code"] if reasons else None
    call.risk_score = risk.get("score")
    call.qa_score = qa.get("score")
    call.lead_intent = lead.get("intent")
    call.audio_path = audio_path if audio_path is not None else call.audio_path
    call.analysis = analysis
    session.add(call)
    session.flush()
    session.add_all(CallTag(call_id=call_id, kind=k, value=v[:200]) for k, v in sorted(call_tags(analysis)))
    session.add_all(CallTerm(call_id=call_id, term=t) for t in sorted(search_terms(analysis)))
    return call


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
