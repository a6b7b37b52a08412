"""The daily lead list (服转销): sales leads found in one day's service calls, one row per customer
and product, with do-not-disturb (免打扰) rules holding back the leads that must not be called.

The rules are small objects (an id, a name and ``check``), in the style of Presidio recognizers;
which rules are on and their parameters are data, in ``do_not_disturb.yaml`` beside this module.
A held-back lead goes to the table ``suppressed`` with every rule that fired and why, in Chinese
and English, so a manager can see the numbers behind each decision.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import yaml

from models.insights.calls import CallRecord
from models.insights.report import Chart, Report, Table
from nlp.taxonomy import load_taxonomy

DEFAULT_RULES = Path(__file__).resolve().parent / "do_not_disturb.yaml"
INTENTS = ("none", "low", "medium", "high")  # weakest first
EVIDENCE_CHARS = 60
CHART_PRODUCTS = 20
LEAD_COLUMNS = ["customer_id", "product", "score", "intent", "evidence", "call_time", "call_id", "call_ids",
                "agent_id", "preferred_channel"]
SUPPRESSED_COLUMNS = [*LEAD_COLUMNS, "rules", "reasons"]


@dataclass(slots=True)
class Lead:
    """A customer's interest in one product on the list day, merged over that day's calls:
    the call with the highest lead score gives score, intent, evidence, time and agent."""

    customer_id: str | None
    product: str
    score: float
    intent: str
    evidence: str
    call: CallRecord
    calls: list[CallRecord] = field(default_factory=list)  # every lead call of the day, by time
    preferred_channel: str = ""

    @property
    def day(self) -> date:
        """The list day (the day of the lead calls)."""
        return self.call.day  # type: ignore[return-value]  # calls without a day never become leads

    def row(self) -> dict[str, Any]:
        """The table row (``LEAD_COLUMNS``)."""
        return {
            "customer_id": self.customer_id or "",
            "product": self.product,
            "score": round(self.score, 3),
            "intent": self.intent,
            "evidence": self.evidence,
            "call_time": self.call.started_at.strftime("%Y-%m-%d %H:%M:%S") if self.call.started_at else "",
            "call_id": self.call.call_id,
            "call_ids": [c.call_id for c in self.calls],
            "agent_id": self.call.agent_id or "",
            "preferred_channel": self.preferred_channel,
        }


# --- do-not-disturb rules -------------------------------------------------------------------------


class DndRule:
    """A do-not-disturb rule: ``check`` returns why a lead must not be called (Chinese / English,
    naming the numbers), or None. ``params`` maps each parameter to its type and default."""

    id: ClassVar[str]
    name: ClassVar[str]
    params: ClassVar[dict[str, tuple[type, Any]]]

    def check(self, lead_row: Lead, customer_calls: list[CallRecord], settings: dict[str, Any]) -> str | None:
        """The explanation when the rule holds ``lead_row`` back, else None. ``customer_calls``: every
        call of the customer in the data up to the end of the list day, oldest first."""
        raise NotImplementedError


class ComplaintRiskRule(DndRule):
    """The customer's complaint risk (the highest of their calls up to the list day) is too high."""

    id = "complaint_risk"
    name = "投诉风险高 / high complaint risk"
    params: ClassVar[dict[str, tuple[type, Any]]] = {"threshold": (float, 0.5)}

    def check(self, lead_row, customer_calls, settings):
        scored = [(c.complaint_risk, c.call_id) for c in customer_calls if c.complaint_risk is not None]
        if not scored:
            return None
        risk, call_id = max(scored)
        threshold = settings["threshold"]
        if risk < threshold:
            return None
        return (f"投诉风险 {risk:.2f} ≥ {threshold:g}（通话 {call_id}） / "
                f"complaint risk {risk:.2f} ≥ {threshold:g} (call {call_id})")


class RecentComplaintRule(DndRule):
    """The customer complained within ``days`` days of the list day (see ``NOTES`` for the evidence)."""

    id = "recent_complaint"
    name = "近期投诉 / recent complaint"
    params: ClassVar[dict[str, tuple[type, Any]]] = {"days": (int, 30), "reason_code": (str, "service_complaint")}

    def check(self, lead_row, customer_calls, settings):
        days, code = settings["days"], settings["reason_code"]
        for call in reversed(customer_calls):  # newest first: the most recent evidence is named
            age = (lead_row.day - call.day).days
            since = call.history.get("last_complaint_days")
            if _is_number(since) and since + age <= days:
                return (f"距上次投诉 {since + age:g} 天 ≤ {days} 天（通话 {call.call_id} 的历史记录） / "
                        f"last complaint {since + age:g} days ago ≤ {days} (history of call {call.call_id})")
            count = call.history.get("complaints_90d")
            if _is_number(count) and count > 0 and 90 + age <= days:
                return (f"90 天内投诉 {count:g} 次，在 {days} 天窗口内（通话 {call.call_id} 的历史记录） / "
                        f"{count:g} complaint(s) in the 90 days before call {call.call_id}, "
                        f"within the {days}-day window")
            if age <= days and any(r.get("code") == code for r in call.reasons):
                return (f"{age} 天前的通话 {call.call_id} 含投诉原因 {code}（≤ {days} 天） / "
                        f"call {call.call_id} {age} days ago has reason {code} (≤ {days} days)")
        return None


class RefusedProductRule(DndRule):
    """The customer refused this product on an outbound call within ``days`` days."""

    id = "refused_product"
    name = "近期拒绝同一产品 / refused the same product"
    params: ClassVar[dict[str, tuple[type, Any]]] = {"days": (int, 30)}

    def check(self, lead_row, customer_calls, settings):
        days = settings["days"]
        for call in reversed(customer_calls):
            age = (lead_row.day - call.day).days
            if (age <= days and call.direction == "outbound" and call.outcome == "refused"
                    and lead_row.product in _products(call)):
                return (f"{age} 天前外呼 {call.call_id} 拒绝「{lead_row.product}」（≤ {days} 天） / "
                        f"refused {lead_row.product} on outbound call {call.call_id} {age} days ago (≤ {days})")
        return None


class ContactFrequencyRule(DndRule):
    """The customer was contacted more than ``max_contacts`` times within ``days`` days."""

    id = "too_many_contacts"
    name = "联系过于频繁 / contacted too often"
    params: ClassVar[dict[str, tuple[type, Any]]] = {"max_contacts": (int, 4), "days": (int, 30)}

    def check(self, lead_row, customer_calls, settings):
        most, days = settings["max_contacts"], settings["days"]
        in_data = sum(1 for c in customer_calls if (lead_row.day - c.day).days < days)
        # history.contacts_30d covers 30 days: a fair lower bound only for windows of 30 days or more
        history = max((c.history["contacts_30d"] for c in customer_calls
                       if c.day == lead_row.day and _is_number(c.history.get("contacts_30d"))), default=0) \
            if days >= 30 else 0
        contacts = max(in_data, history)
        if contacts <= most:
            return None
        return (f"{days} 天内联系 {contacts:g} 次 > {most} 次（历史记录 {history:g}，数据中 {in_data} 通） / "
                f"contacted {contacts:g} times in {days} days > {most} (history {history:g}, calls in data {in_data})")


RULES: dict[str, DndRule] = {r.id: r for r in (ComplaintRiskRule(), RecentComplaintRule(), RefusedProductRule(),
                                                ContactFrequencyRule())}

NOTES = [
    ("One row per customer and product: a customer's lead calls of the day for the same product are merged; the "
     "call with the highest lead score gives score, intent, evidence (its customer turn, cut to 60 characters), "
     "time and agent; call_ids lists every merged call."),
    ("Do-not-disturb rules look at every call of the customer in the data up to the end of the list day "
     "(a later call the same day counts too); their settings are in models/insights/do_not_disturb.yaml."),
    "complaint_risk: the highest complaint_risk score of the customer's calls up to the list day.",
    ("recent_complaint: a complaint counts if a call's history.last_complaint_days plus the call's age is at most N "
     "days, or its history.complaints_90d > 0 and 90 plus the call's age is at most N (so only for N ≥ 90), or a "
     "call within N days has a reason with the configured complaint code (service_complaint, 服务投诉)."),
    ("refused_product: an outbound call within N days with outcome 'refused' whose lead.product (any intent) or "
     "product field is this product."),
    ("too_many_contacts: the larger of the history.contacts_30d of the customer's calls on the list day (used only "
     "for windows of 30 days or more) and the count of the customer's calls in the data in the window (both "
     "directions, the list day included)."),
]


# --- settings ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadSettings:
    """What ``do_not_disturb.yaml`` says: the weakest intent listed, and the rules on (with parameters)."""

    min_intent: str
    rules: tuple[tuple[DndRule, dict[str, Any]], ...]
    disabled: tuple[str, ...] = ()
    source: str = ""


def load_lead_settings(path: str | Path | None = None) -> LeadSettings:
    """The validated lead-list settings in ``path`` (default: the bundled YAML); ``ValueError`` naming
    the file and the entry for an unknown rule, a bad parameter or a bad intent."""
    path = Path(path) if path is not None else DEFAULT_RULES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read lead-list settings: {exc}") from exc
    data = {} if data is None else data
    _require(isinstance(data, dict), f"{path}: expected a mapping with 'min_intent' and 'rules'")
    unknown = set(data) - {"min_intent", "rules"}
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: min_intent, rules")
    min_intent = data.get("min_intent", "low")
    if min_intent not in INTENTS[1:]:
        raise ValueError(f"{path}: min_intent {min_intent!r} is not one of {', '.join(INTENTS[1:])}")
    entries = data.get("rules") or []
    _require(isinstance(entries, list), f"{path}: 'rules' must be a list of rule entries")
    rules: list[tuple[DndRule, dict[str, Any]]] = []
    disabled: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        rule, params, enabled = _rule_entry(f"{path}: rules[{index}]", entry)
        if rule.id in seen:
            raise ValueError(f"{path}: rules[{index}]: rule {rule.id!r} is listed twice")
        seen.add(rule.id)
        if enabled:
            rules.append((rule, params))
        else:
            disabled.append(rule.id)
    return LeadSettings(min_intent, tuple(rules), tuple(disabled), str(path))


def _rule_entry(where: str, entry: Any) -> tuple[DndRule, dict[str, Any], bool]:
    """One YAML rule entry checked: its rule, its parameters (defaults filled in) and whether it is on."""
    _require(isinstance(entry, dict) and isinstance(entry.get("id"), str),
             f"{where}: expected a mapping with a rule 'id'")
    rule = RULES.get(entry["id"])
    if rule is None:
        raise ValueError(f"{where}: unknown rule id {entry['id']!r}; known: {', '.join(RULES)}")
    where = f"{where} (rule {rule.id!r})"
    enabled = entry.get("enabled", True)
    _require(isinstance(enabled, bool), f"{where}: 'enabled' must be true or false, not {enabled!r}")
    unknown = set(entry) - {"id", "enabled"} - set(rule.params)
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"known: {', '.join(rule.params)}")
    params = {name: _parameter(f"{where}: {name}", entry.get(name, default), kind)
              for name, (kind, default) in rule.params.items()}
    if "reason_code" in params:
        tax = load_taxonomy(None)
        if params["reason_code"] not in tax.reasons:
            raise ValueError(f"{where}: reason_code {params['reason_code']!r} is not a reason code of the "
                             f"taxonomy ({tax.source})")
    return rule, params, enabled


def _parameter(where: str, value: Any, kind: type) -> Any:
    """A parameter value of the declared type and a sensible range, or ``ValueError``."""
    if kind is float:
        if not _is_number(value) or not 0 <= value <= 1:
            raise ValueError(f"{where} must be a number from 0 to 1, not {value!r}")
        return float(value)
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{where} must be a whole number ≥ 0, not {value!r}")
        return value
    _require(isinstance(value, str), f"{where} must be text, not {value!r}")
    return value


# --- the list ---------------------------------------------------------------------------------------


def build_lead_list(calls: list[CallRecord], *, day: date | None = None, rules_path: str | Path | None = None,
                    min_intent: str | None = None) -> Report:
    """The lead list of ``day`` (default: the latest day in the data): table ``leads`` to call, by score,
    and table ``suppressed`` with the do-not-disturb rules that held each lead back and why."""
    settings = load_lead_settings(rules_path)
    weakest = min_intent or settings.min_intent
    if weakest not in INTENTS[1:]:
        raise ValueError(f"min_intent {weakest!r} is not one of {', '.join(INTENTS[1:])}")
    day = day or max((c.day for c in calls if c.day is not None), default=None)
    history = calls_by_customer(calls, day) if day else {}
    leads = leads_of_day(calls, day, weakest) if day else []
    kept: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    by_rule = {rule.id: 0 for rule, _ in settings.rules}
    for lead in leads:
        customer_calls = history.get(lead.customer_id, lead.calls) if lead.customer_id else lead.calls
        lead.preferred_channel = preferred_channel([*customer_calls, *lead.calls])
        fired = [(rule.id, why) for rule, params in settings.rules
                 if (why := rule.check(lead, customer_calls, params))]
        if fired:
            held.append({**lead.row(), "rules": [r for r, _ in fired], "reasons": [w for _, w in fired]})
            for rule_id, _ in fired:
                by_rule[rule_id] += 1
        else:
            kept.append(lead.row())
    return Report(
        name="leads",
        title=f"每日线索清单（服转销）{day.isoformat() if day else ''}",
        summary={
            "day": day.isoformat() if day else None,
            "calls": sum(1 for c in calls if c.day == day) if day else 0,
            "min_intent": weakest,
            "leads_found": len(leads),
            "kept": len(kept),
            "suppressed": len(held),
            "suppressed_by_rule": by_rule,
            "rules_enabled": [rule.id for rule, _ in settings.rules],
            "rules_disabled": list(settings.disabled),
        },
        tables=[Table("leads", LEAD_COLUMNS, kept), Table("suppressed", SUPPRESSED_COLUMNS, held)],
        charts=[leads_per_product_chart(kept, held)],
        notes=[*NOTES, f"Settings: {settings.source}; minimum intent {weakest}."],
        xlsx=True,
    )


def leads_of_day(calls: list[CallRecord], day: date, min_intent: str = "low") -> list[Lead]:
    """Leads of ``day`` at or above ``min_intent``, one per customer and product (highest score kept),
    highest score first."""
    weakest = INTENTS.index(min_intent)
    groups: dict[tuple[str, str], list[CallRecord]] = defaultdict(list)
    for call in calls:
        lead = call.lead
        if call.day != day or lead is None or _intent_rank(lead.get("intent")) < weakest:
            continue
        customer = call.customer_id or f"call:{call.call_id}"  # no customer id: the call stands alone
        groups[(customer, lead.get("product") or "")].append(call)
    leads = []
    for (_, product), group in groups.items():
        group.sort(key=lambda c: (c.started_at, c.call_id))
        best = max(group, key=lambda c: (float(c.lead.get("score") or 0.0), c.call_id))  # type: ignore[union-attr]
        lead = best.lead or {}
        leads.append(Lead(best.customer_id, product, float(lead.get("score") or 0.0), lead.get("intent", ""),
                          evidence_quote(best), best, group))
    leads.sort(key=lambda lead: (-lead.score, lead.call.started_at, lead.call.call_id))
    return leads


def calls_by_customer(calls: list[CallRecord], day: date) -> dict[str, list[CallRecord]]:
    """Each customer's calls up to the end of ``day``, oldest first (what the rules look at)."""
    by_customer: dict[str, list[CallRecord]] = defaultdict(list)
    for call in sorted((c for c in calls if c.day is not None and c.day <= day and c.customer_id),
                       key=lambda c: (c.started_at, c.call_id)):
        by_customer[call.customer_id].append(call)  # type: ignore[index]
    return by_customer


def evidence_quote(call: CallRecord) -> str:
    """The customer's words behind the lead: the turn ``lead.turns[0]`` (or the next customer turn if
    that one is the agent's), cut to ``EVIDENCE_CHARS`` characters."""
    lead = call.lead or {}
    turns = call.turns
    first = (lead.get("turns") or [None])[0]
    if not isinstance(first, int) or not 0 <= first < len(turns):
        return ""
    text = next((t.get("text", "") for t in turns[first:] if t.get("role") == "customer"), "").strip()
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 1] + "…"


def preferred_channel(calls: list[CallRecord]) -> str:
    """The newest known preferred channel among ``calls`` (analysis field or history), else ''."""
    for call in sorted(calls, key=lambda c: (c.started_at, c.call_id), reverse=True):
        channel = call.data.get("preferred_channel") or call.history.get("preferred_channel")
        if channel:
            return str(channel)
    return ""


def leads_per_product_chart(kept: list[dict[str, Any]], held: list[dict[str, Any]]) -> Chart:
    """Horizontal stacked bars: leads kept and held back per product (top ``CHART_PRODUCTS`` by total)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in kept:
        counts[row["product"] or "（未识别）"][0] += 1
    for row in held:
        counts[row["product"] or "（未识别）"][1] += 1
    products = sorted(counts, key=lambda p: (-sum(counts[p]), p))[:CHART_PRODUCTS]
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"data": ["可外呼 kept", "免打扰 suppressed"], "top": 0},
        "grid": {"left": 120, "right": 30, "top": 40, "bottom": 30},
        "xAxis": {"type": "value", "name": "线索数", "minInterval": 1},
        "yAxis": {"type": "category", "data": products, "inverse": True},
        "series": [
            {"name": "可外呼 kept", "type": "bar", "stack": "leads", "data": [counts[p][0] for p in products]},
            {"name": "免打扰 suppressed", "type": "bar", "stack": "leads", "data": [counts[p][1] for p in products],
             "itemStyle": {"color": "#bbbbbb"}},
        ],
    }
    return Chart("各产品线索数（可外呼 / 免打扰）", option, height=max(240, 60 + 32 * len(products)))


def _products(call: CallRecord) -> set[str]:
    """Products a call was about: its lead's product (whatever the intent) and a ``product`` field."""
    lead = call.data.get("lead") or {}
    return {p for p in (lead.get("product"), call.data.get("product")) if p}


def _require(ok: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``ok`` (settings errors are ValueErrors, whatever went wrong)."""
    if not ok:
        raise ValueError(message)


def _intent_rank(intent: Any) -> int:
    return INTENTS.index(intent) if intent in INTENTS else -1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
