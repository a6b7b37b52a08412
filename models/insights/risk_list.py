"""The day's top-risk complaint list (投诉预警): who to call back before they complain.

One row per customer (their riskiest call of the day), ranked by the calibrated complaint
probability in each analysis's ``complaint_risk`` block, with the drivers in words and the
suggested action. Analyses written before risk scoring existed are scored here with ``model``.
"""

from __future__ import annotations

from datetime import date

from models.insights.calls import CallRecord
from models.insights.report import Chart, Report, Table
from models.risk import RiskModel

NOTE = ("Score: the probability that the customer files a formal complaint within 7 days "
        "(logistic model over the call's signals; `callscope train` fits it to labelled calls). "
        "Drivers are the signals that add most to the score; the action answers the top one.")
COLUMNS = ["rank", "customer_id", "call_id", "started_at", "agent_id", "score", "level", "drivers", "action",
           "calls_today"]


def build_risk_list(calls: list[CallRecord], *, day: date | None = None, top_n: int = 20,
                    high_risk: float = 0.5, model: RiskModel | None = None) -> Report:
    """The top ``top_n`` customers of ``day`` (default: the latest day in the data) by complaint risk."""
    days = [c.day for c in calls if c.day is not None]
    day = day or (max(days) if days else None)
    todays = [c for c in calls if c.day == day]
    best: dict[str, tuple[CallRecord, dict]] = {}
    per_customer: dict[str, int] = {}
    for call in todays:
        risk = call.data.get("complaint_risk")
        if not isinstance(risk, dict) and model is not None:
            risk = model.assess(call.data)
        if not isinstance(risk, dict):
            continue
        who = call.customer_id or f"(unknown: {call.call_id})"
        per_customer[who] = per_customer.get(who, 0) + 1
        if who not in best or risk["score"] > best[who][1]["score"]:
            best[who] = (call, risk)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][1]["score"], kv[0]))
    rows = []
    for rank, (who, (call, risk)) in enumerate(ranked[:top_n], start=1):
        rows.append({"rank": rank, "customer_id": who, "call_id": call.call_id,
                     "started_at": call.data.get("started_at"), "agent_id": call.agent_id,
                     "score": risk["score"], "level": "high" if risk["score"] >= high_risk else "watch",
                     "drivers": risk.get("drivers", []), "action": risk.get("action", ""),
                     "calls_today": per_customer[who]})
    high = sum(1 for _, (_, r) in best.items() if r["score"] >= high_risk)
    chart = Chart("风险最高的客户 / top-risk customers", {
        "tooltip": {}, "grid": {"left": 110, "right": 30},
        "xAxis": {"type": "value", "min": 0, "max": 1, "name": "P(complaint)"},
        "yAxis": {"type": "category", "inverse": True, "data": [r["customer_id"] for r in rows]},
        "series": [{"type": "bar", "data": [r["score"] for r in rows],
                    "label": {"show": True, "position": "right"}}],
    }, height=max(240, 28 * len(rows) + 80))
    return Report(
        name="risk", title=f"投诉预警 top-risk complaint list {day}",
        summary={"day": str(day) if day else None, "calls": len(todays), "customers": len(best),
                 "high_risk_customers": high, "threshold": high_risk},
        tables=[Table("top", COLUMNS, rows)], charts=[chart] if rows else [],
        notes=[NOTE],
        xlsx=True)
