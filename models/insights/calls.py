"""Analysed calls as report input: one ``CallRecord`` per ``<call_id>.analysis.json``.

Reports read the analysis contract of DESIGN.md plus the metadata the analysis carries through
(direction, industry, queue, agent, customer, start time, IVR path, contact history, outcome).
Loading a folder never stops at a bad file: it is returned with its reason instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class CallRecord:
    """One analysed call, with the fields reports group and filter by parsed once."""

    call_id: str
    started_at: datetime | None
    direction: str
    industry: str | None
    queue: str | None
    agent_id: str | None
    customer_id: str | None
    data: dict[str, Any] = field(repr=False)

    @property
    def day(self) -> date | None:
        """Calendar day of the call in its own time zone."""
        return self.started_at.date() if self.started_at else None

    @property
    def reasons(self) -> list[dict[str, Any]]:
        """Reasons, primary first, each with ``code``, ``score``, ``turns``, ``seconds``."""
        return self.data.get("reasons") or []

    @property
    def primary_reason(self) -> str | None:
        """Code of the primary reason, or None when no reason was found."""
        return self.reasons[0]["code"] if self.reasons else None

    @property
    def turns(self) -> list[dict[str, Any]]:
        """Turns with ``role``, ``text`` and, when timed, ``start``/``end``."""
        return self.data.get("turns") or []

    @property
    def script_points(self) -> list[dict[str, Any]]:
        """Script points by agent turn index, in turn order."""
        return sorted(self.data.get("script_points") or [], key=lambda p: p["turn"])

    @property
    def competitors(self) -> list[dict[str, Any]]:
        return self.data.get("competitors") or []

    @property
    def lead(self) -> dict[str, Any] | None:
        """The lead finding, or None when intent is none or missing."""
        lead = self.data.get("lead")
        return lead if lead and lead.get("intent", "none") != "none" else None

    @property
    def path(self) -> list[dict[str, Any]]:
        """IVR / bot steps before the agent (inbound calls), oldest first."""
        return self.data.get("path") or []

    @property
    def history(self) -> dict[str, Any]:
        """Contact history: ``contacts_30d``, ``complaints_90d``, ``repeat_within_24h``..."""
        return self.data.get("history") or {}

    @property
    def outcome(self) -> str | None:
        """How the call ended (resolved / unresolved / escalated; success / refused / callback):
        the business system's value if the input carried one, else the predicted one."""
        value = self.data.get("outcome")
        if isinstance(value, dict):
            return value.get("label")
        return value

    @property
    def complaint_risk(self) -> float | None:
        risk = self.data.get("complaint_risk")
        return risk.get("score") if isinstance(risk, dict) else None

    @property
    def duration_s(self) -> float | None:
        return self.data.get("duration_s")


def record_from_analysis(data: dict[str, Any]) -> CallRecord:
    """A ``CallRecord`` from one analysis dict; raises ``ValueError`` naming a bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("call_id"), str):
        raise ValueError("not an analysis: field 'call_id' is missing")
    started = data.get("started_at")
    when = None
    if started is not None:
        try:
            when = datetime.fromisoformat(str(started))
        except ValueError as exc:
            raise ValueError(f"field 'started_at' is not an ISO time: {started!r}") from exc
    return CallRecord(
        call_id=data["call_id"],
        started_at=when,
        direction=data.get("direction") or "inbound",
        industry=data.get("industry"),
        queue=data.get("queue"),
        agent_id=data.get("agent_id"),
        customer_id=data.get("customer_id"),
        data=data,
    )


def load_calls(folder: Path) -> tuple[list[CallRecord], list[tuple[Path, str]]]:
    """Every ``*.analysis.json`` under ``folder`` (sorted by start time), and files that failed."""
    records: list[CallRecord] = []
    problems: list[tuple[Path, str]] = []
    for path in sorted(Path(folder).rglob("*.analysis.json")):
        try:
            records.append(record_from_analysis(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            problems.append((path, str(exc)))
    records.sort(key=lambda r: (r.started_at is None, r.started_at or datetime.min, r.call_id))
    return records, problems


def calls_between(calls: list[CallRecord], first: date, last: date) -> list[CallRecord]:
    """Calls whose day lies in [first, last]."""
    return [c for c in calls if c.day is not None and first <= c.day <= last]
