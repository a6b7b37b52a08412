"""Constructed analyses with known answers, for report tests (the DESIGN.md analysis contract)."""

from __future__ import annotations

from typing import Any

from models.insights.calls import CallRecord, record_from_analysis


def make_call(call_id: str, *, day: str = "2026-10-20", time: str = "10:00:00",
              direction: str = "inbound", industry: str = "telecom", queue: str | None = None,
              agent: str = "A1", customer: str = "C1",
              turns: list[tuple[str, str, float, float]] | None = None,
              reasons: list[tuple[str, list[int], float]] | None = None,
              script_points: list[tuple[int, str]] | None = None,
              competitors: list[dict[str, Any]] | None = None,
              lead: dict[str, Any] | None = None, outcome: str | None = None,
              path: list[dict[str, Any]] | None = None, history: dict[str, Any] | None = None,
              sentiment: dict[str, Any] | None = None, qa: dict[str, Any] | None = None,
              acoustics: dict[str, Any] | None = None, complaint_risk: float | None = None,
              **extra: Any) -> dict[str, Any]:
    """One analysis dict. ``turns`` are (role, text, start, end); ``reasons`` (code, turns,
    seconds), primary first; ``script_points`` (agent turn, point)."""
    turns = turns or [("agent", "您好，请问有什么可以帮您？", 0.0, 3.0), ("customer", "我想问一下话费。", 3.2, 6.0)]
    data: dict[str, Any] = {
        "call_id": call_id,
        "direction": direction,
        "industry": industry,
        "agent_id": agent,
        "customer_id": customer,
        "started_at": f"{day}T{time}+08:00",
        "duration_s": max(t[3] for t in turns),
        "turns": [{"role": r, "text": x, "start": s, "end": e} for r, x, s, e in turns],
        "reasons": [{"code": c, "score": 0.9, "turns": t, "seconds": s} for c, t, s in (reasons or [])],
        "script_points": [{"turn": t, "point": p, "score": 0.9} for t, p in (script_points or [])],
        "competitors": competitors or [],
        "lead": lead or {"intent": "none", "product": None, "score": 0.0, "turns": []},
        "sentiment": sentiment or {"agent": 0.2, "customer": 0.0},
    }
    if queue is not None:
        data["queue"] = queue
    if outcome is not None:
        data["outcome"] = {"label": outcome, "source": "crm"}
    if path is not None:
        data["path"] = path
    if history is not None:
        data["history"] = history
    if qa is not None:
        data["qa"] = qa
    if acoustics is not None:
        data["acoustics"] = acoustics
    if complaint_risk is not None:
        data["complaint_risk"] = {"score": complaint_risk, "drivers": []}
    data.update(extra)
    return data


def records(*calls: dict[str, Any]) -> list[CallRecord]:
    """CallRecords of constructed analyses, in the order given."""
    return [record_from_analysis(c) for c in calls]
