"""Customer flags from history: what the customer's earlier calls in the database say about them
(complaint-sensitive, fee-sensitive, repeat caller), plus the CRM history the desktop may send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assist.settings import CustomerFlagRules
from api.storage.models import Call


def earlier_calls(session: Session, customer_id: str, limit: int) -> list[dict[str, Any]]:
    """The customer's stored calls, newest first: id, when, reasons, complaint risk."""
    rows = session.execute(
        select(Call.call_id, Call.started_at, Call.created_at, Call.risk_score, Call.analysis)
        .where(Call.customer_id == customer_id)
        .order_by(Call.created_at.desc())
        .limit(limit)
    ).all()
    calls = []
    for call_id, started, created, risk, analysis in rows:
        analysis = analysis or {}
        when = _aware(_parse(analysis.get("started_at")) or started or created)
        calls.append({"call_id": call_id, "at": when, "risk": risk,
                      "reasons": [r.get("code") for r in analysis.get("reasons") or []]})
    calls.sort(key=lambda c: c["at"] or datetime.min.replace(tzinfo=UTC), reverse=True)
    return calls


def customer_flags(calls: list[dict[str, Any]], rules: CustomerFlagRules, now: datetime,
                   crm: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Flags with the evidence behind each, from earlier calls and the CRM history (``history`` of
    the start message: contacts_30d, complaints_90d, repeat_within_24h)."""
    crm = crm or {}
    now = _aware(now)
    flags = []

    complaint = rules.complaint_sensitive
    why = [f"{c['call_id']}: {r}" for c in calls for r in c["reasons"] if r in complaint.reasons]
    why += [f"{c['call_id']}: complaint risk {c['risk']:.2f}" for c in calls
            if c["risk"] is not None and c["risk"] >= complaint.min_risk]
    if _number(crm.get("complaints_90d")) >= complaint.complaints_90d:
        why.append(f"CRM: {crm['complaints_90d']} complaints in 90 days")
    if why:
        flags.append(_flag("complaint_sensitive", complaint.name, why))

    fee = rules.fee_sensitive
    why = [f"{c['call_id']}: {r}" for c in calls for r in c["reasons"] if r in fee.reasons]
    if why:
        flags.append(_flag("fee_sensitive", fee.name, why))

    repeat = rules.repeat_caller
    dated = [c for c in calls if c["at"] is not None and c["at"] <= now + timedelta(minutes=5)]
    recent = [c for c in dated if now - c["at"] <= timedelta(hours=repeat.within_hours)]
    month = [c for c in dated if now - c["at"] <= timedelta(days=30)]
    why = [f"{c['call_id']} at {c['at'].isoformat(timespec='minutes')}" for c in recent]
    if len(month) >= repeat.calls_in_30d:
        why.append(f"{len(month)} earlier calls in 30 days")
    if crm.get("repeat_within_24h") is True:
        why.append("CRM: repeat within 24 h")
    if _number(crm.get("contacts_30d")) >= repeat.calls_in_30d:
        why.append(f"CRM: {crm['contacts_30d']} contacts in 30 days")
    if why:
        flags.append(_flag("repeat_caller", repeat.name, why))
    return flags


def _flag(code: str, name: str, why: list[str]) -> dict[str, Any]:
    return {"code": code, "name": name, "source": "history", "detail": "; ".join(dict.fromkeys(why[:5]))}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _aware(value: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC (SQLite keeps no zone)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
