"""Suggestions for the agent from the call so far: likely reason, next script point, compliance items
still missing, a competitor card, and flags.

``Advisor`` keeps one call's turns. After each final utterance it runs the nlp finders over the
call so far (``nlp.findings.call_findings``, the same as a finished call's analysis), feeds the turn
to a ``qa_rules.runner.RuleRunner`` with the rule book that fits the call, and builds the
``suggestions`` message. What counts as "missing" is read off each rule's condition:

- ``without_prior`` (identity check before the account is touched): missing until ``prior`` holds;
- ``and`` with one ``not`` (a disclosure when a product is sold): missing once the rest of the
  condition has started to hold (the product came up) and until the ``not`` part is said;
- a rule on the first turns (greeting): missing until those turns are there, then kept if fired.

Rules on the call's end (closing) or its audio (dead air) are left to the final analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.assist.settings import AssistSettings, CounterPoints
from callscope.types import Conversation, Turn
from nlp.findings import call_findings
from nlp.text import CallText, TurnText, call_text
from qa_rules.engine import applicable, fire
from qa_rules.loader import select_rulebook
from qa_rules.nodes import AllOf, Node, Not, Position, WithoutPrior
from qa_rules.runner import RuleRunner


@dataclass
class Advisor:
    """One call in progress and what to suggest after each of its turns."""

    analyzer: Any                      # api.analysis.Analyzer
    settings: AssistSettings
    counterpoints: CounterPoints
    meta: dict[str, Any]
    call_id: str = ""
    customer_flags: list[dict[str, Any]] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    texts: list[TurnText] = field(default_factory=list)
    findings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.book = select_rulebook(self.analyzer.rulebooks, self.meta)
        self.runner = RuleRunner(self.book, self.meta, call_id=self.call_id) if self.book else None
        self.rules = [r for r in applicable(self.book, self.meta) if r.effect == "deduct"] if self.book else []

    @property
    def taxonomy(self):
        return self.analyzer.scorer.taxonomy

    def add(self, turn: Turn) -> dict[str, Any]:
        """Take the next final turn; the ``suggestions`` message for the call so far."""
        index = len(self.turns)
        self.turns.append(turn)
        one = call_text(Conversation(self.call_id, [turn]), self.analyzer.lexicon).turns[0]
        one.index = index
        self.texts.append(one)
        call = CallText(self.call_id, list(self.texts), dict(self.meta))
        self.findings = call_findings(call, self.analyzer.scorer, competitor_patterns=self.analyzer.competitor_patterns,
                                      with_pii=False)
        alerts = []
        if self.runner is not None:
            alerts = [_rule_item(v.rule, "violated", v.main.turn if v.main else None, v.main.text if v.main else "")
                      for v in self.runner.add_turn(one, self.findings)]
        return {
            "type": "suggestions",
            "turn": index,
            "reason": self.reason(),
            "next_script_point": self.next_script_point(call),
            "missing_compliance": self.missing_compliance(),
            "competitor_card": self.competitor_card(),
            "flags": self.customer_flags + self.call_flags(),
            "alerts": alerts,
        }

    def reason(self) -> dict[str, Any] | None:
        """The primary reason found so far: code, name, score."""
        reasons = self.findings.get("reasons") or []
        if not reasons:
            return None
        code = reasons[0]["code"]
        entry = self.taxonomy.reasons.get(code)
        return {"code": code, "name": entry.name if entry else code, "score": reasons[0]["score"]}

    def track(self):
        """The talk track that fits the call so far."""
        reasons = [r["code"] for r in self.findings.get("reasons") or [] if r["score"] >= self.settings.min_reason_score]
        return self.settings.track(self.meta.get("direction"), self.meta.get("industry"), reasons)

    def done_points(self, call: CallText) -> set[str]:
        """Script points some agent turn has carried (scored at least ``done_score``)."""
        names = list(self.taxonomy.script_points)
        done = {p["point"] for p in self.findings.get("script_points") or [] if p["score"] >= self.settings.done_score}
        scores = self.analyzer.scorer.point_scores(call)
        for row in scores:
            done |= {names[j] for j, p in enumerate(row) if p >= self.settings.done_score}
        return done

    def next_script_point(self, call: CallText) -> dict[str, Any] | None:
        """The first step of the talk track after the furthest one done and not done itself (None
        when the track is through); earlier steps not done are listed as ``skipped``."""
        track = self.track()
        done = self.done_points(call)
        reached = max((i for i, step in enumerate(track.steps) if step in done), default=-1)
        ahead = [step for step in track.steps[reached + 1:] if step not in done]
        if not ahead:
            return None
        entry = self.taxonomy.script_points.get(ahead[0])
        return {"code": ahead[0], "name": entry.name if entry else ahead[0], "track": track.name,
                "done": [s for s in track.steps if s in done],
                "skipped": [s for s in track.steps[:reached] if s not in done]}

    def missing_compliance(self) -> list[dict[str, Any]]:
        """Rule-book items not yet satisfied on the call so far (see the module docstring)."""
        if self.runner is None:
            return []
        view = self.runner.view()
        items = []
        for rule in self.rules:
            status = _status(rule.when, view, fire(rule, view) is not None)
            if status:
                items.append(_rule_item(rule, status))
        return items

    def competitor_card(self) -> dict[str, Any] | None:
        """The latest competitor the customer named, within the last few turns, with counter-points."""
        recent = len(self.turns) - self.settings.competitor_card_turns
        mentions = [c for c in self.findings.get("competitors") or []
                    if c["turn"] >= recent and self.turns[c["turn"]].role == "customer"]
        if not mentions:
            return None
        last = mentions[-1]
        from nlp.competitors import load_competitor_patterns

        brand = load_competitor_patterns(self.analyzer.competitor_patterns).brands.get(last["brand"])
        industry = brand.industry if brand else self.meta.get("industry")
        return {"brand": last["brand"], "mention": last["mention"], "dimension": last["dimension"],
                "turn": last["turn"],
                "counter_points": self.counterpoints.points(last["brand"], industry, last["dimension"])}

    def call_flags(self) -> list[dict[str, Any]]:
        """Flags this call raises so far: the customer is upset, a buying signal."""
        rules = self.settings.call_flags
        flags = []
        customer_turns = [t for t in self.turns if t.role == "customer"]
        sentiment = (self.findings.get("sentiment") or {}).get("customer")
        if customer_turns and sentiment is not None and sentiment < rules.upset.customer_sentiment_below:
            flags.append({"code": "upset", "name": rules.upset.name, "source": "call",
                          "detail": f"customer sentiment {sentiment:.2f}"})
        lead = self.findings.get("lead") or {}
        if lead.get("intent") in rules.buying_signal.lead_intents:
            flags.append({"code": "buying_signal", "name": rules.buying_signal.name, "source": "call",
                          "detail": f"{lead.get('intent')} interest in {lead.get('product') or 'a product'}"})
        return flags


def _status(node: Node, view, fired: bool) -> str | None:
    """``pending`` / ``missing`` / ``violated`` for a rule's condition on the call so far, or None
    when there is nothing to tell the agent."""
    if isinstance(node, WithoutPrior):
        if node.prior.run(view)[0]:
            return None
        return "violated" if fired else "pending"
    if isinstance(node, Position):
        p = node.params
        if p.last is not None or p.last_s is not None:
            return None  # about the end of the call: judged when it ends
        if p.first is not None and len(view.role_turns(p.role or "any")) < p.first:
            return "pending"
        return "violated" if fired else None
    if isinstance(node, AllOf):
        nots = [c for c in node.children if isinstance(c, Not)]
        if len(nots) == 1:
            if nots[0].child.run(view)[0]:
                return None
            if fired:
                return "missing"
            started = any(c.run(view)[0] for c in node.children if not isinstance(c, Not))
            return "pending" if started else None
    if isinstance(node, Not):
        return "missing" if fired else None
    return None


def _rule_item(rule, status: str, turn: int | None = None, evidence: str = "") -> dict[str, Any]:
    item: dict[str, Any] = {"rule": rule.id, "name": rule.name, "code": rule.code, "severity": rule.severity,
                            "status": status}
    if turn is not None:
        item["turn"] = turn
    if evidence:
        item["evidence"] = evidence
    return item
