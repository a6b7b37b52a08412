"""Structure operators: script points present / absent / in order, and findings of other stages.

They read the ``call_findings`` dict in the view (``script_points``, ``competitors``,
``lead``, ``reasons``, ``sentiment``) and keep only findings on turns inside the view's window.
Codes are checked against the taxonomy when the rule book loads.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from nlp.taxonomy import Taxonomy
from qa_rules.errors import Errors
from qa_rules.evidence import Evidence, quote
from qa_rules.operators.base import Operator, OpParams, operators
from qa_rules.view import CallView

_INTENTS = ("none", "low", "medium", "high")


def _unknown(taxonomy: Taxonomy | None, section: str, codes: list[str]) -> list[str]:
    if taxonomy is None:
        return []
    known = getattr(taxonomy, section)
    return [Errors.E105.format(section=section, code=c, known=", ".join(known)) for c in codes if c not in known]


class ScriptPointParams(OpParams):
    """``present`` / ``absent``: the point; ``before``: it precedes the first of ``then``;
    ``not_before``: one of ``then`` occurs with no ``point`` earlier (e.g. a change unverified)."""

    point: str
    mode: Literal["present", "absent", "before", "not_before"] = "present"
    then: list[str] = Field(default_factory=list)
    min_score: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _then_needed(self) -> ScriptPointParams:
        if self.mode in ("before", "not_before") and not self.then:
            raise ValueError(f"mode {self.mode!r} needs `then`: the points that must come after")
        return self


@operators.register("script_point", aliases=["point"])
class ScriptPointOp(Operator):
    """A talk-track step of the agent, found by the script-point model.

    ```yaml
    - id: change_without_identity_check
      name: 未核实身份
      code: no_identity_check
      when:
        script_point: {point: identity_check, mode: not_before, then: [solution, confirmation]}
    ```
    """

    Params = ScriptPointParams

    def grows(self, params: ScriptPointParams) -> bool:
        """``absent`` can be undone by a later turn."""
        return params.mode != "absent"

    def check(self, params: ScriptPointParams, taxonomy: Taxonomy | None) -> list[str]:
        """E105 for a point not in the taxonomy."""
        return _unknown(taxonomy, "script_points", [params.point, *params.then])

    def evaluate(self, view: CallView, params: ScriptPointParams) -> list[Evidence]:
        """Evidence on the point's turns (or of its absence)."""
        ids = view.turn_ids
        points = sorted((p for p in view.findings.get("script_points", [])
                         if p["turn"] in ids and p.get("score", 1.0) >= params.min_score), key=lambda p: p["turn"])
        own = [p for p in points if p["point"] == params.point]
        if params.mode == "present":
            return [self._at(view, p, f"`{params.point}`") for p in own]
        if params.mode == "absent":
            return [] if own else [self.absence_evidence(view, "agent", f"script point `{params.point}`")]
        later = [p for p in points if p["point"] in params.then]
        if not later:
            return []
        first_then = later[0]["turn"]
        earlier = [p for p in own if p["turn"] < first_then]
        if params.mode == "before":
            return [self._at(view, earlier[0], f"`{params.point}` before `{later[0]['point']}`")] if earlier else []
        if earlier:
            return []
        return [self._at(view, later[0], f"`{later[0]['point']}` with no `{params.point}` before it")]

    def _at(self, view: CallView, point: dict[str, Any], what: str) -> Evidence:
        turn = view.turn(point["turn"])
        return Evidence(rule_id="", operator=self.name, role="agent", turn=point["turn"],
                        start=turn.start if turn else None, end=turn.end if turn else None,
                        text=quote(turn.text, 0, 0, margin=40) if turn else "", score=float(point.get("score", 1.0)),
                        explanation=f"script point {what} at agent turn #{point['turn']}")


class FindingParams(OpParams):
    """Which finding: competitor (brand / dimension), lead (min intent), reason (code),
    sentiment (role's per-turn score ``below``)."""

    kind: Literal["competitor", "lead", "reason", "sentiment"]
    brand: str | None = None
    dimension: str | None = None
    min_intent: Literal["low", "medium", "high"] = "medium"
    code: str | None = None
    role: Literal["agent", "customer", "any"] = "customer"
    below: float | None = None
    min_score: float = 0.0

    @model_validator(mode="after")
    def _fits_kind(self) -> FindingParams:
        if self.kind == "reason" and not self.code:
            raise ValueError("kind reason needs `code`")
        if self.kind == "sentiment" and self.below is None:
            raise ValueError("kind sentiment needs `below`")
        return self


@operators.register("finding")
class FindingOp(Operator):
    """A finding of an earlier stage: a competitor named, a lead, a reason, sentiment below X.

    ```yaml
    - id: competitor_mentioned
      name: 提及竞品
      severity: info
      when:
        finding: {kind: competitor, dimension: price}
    ```
    """

    Params = FindingParams
    monotone = False

    def check(self, params: FindingParams, taxonomy: Taxonomy | None) -> list[str]:
        """E105 for a reason code not in the taxonomy."""
        return _unknown(taxonomy, "reasons", [params.code]) if params.kind == "reason" and params.code else []

    def evaluate(self, view: CallView, params: FindingParams) -> list[Evidence]:
        """Evidence per matching finding."""
        return getattr(self, f"_{params.kind}")(view, params)

    def _competitor(self, view: CallView, params: FindingParams) -> list[Evidence]:
        ids = view.turn_ids
        return [self._on(view, c["turn"], f"competitor `{c['brand']}` ({c.get('dimension', '')})", c.get("score", 1.0))
                for c in view.findings.get("competitors", [])
                if c["turn"] in ids and (params.brand in (None, c["brand"]))
                and (params.dimension in (None, c.get("dimension"))) and c.get("score", 1.0) >= params.min_score]

    def _lead(self, view: CallView, params: FindingParams) -> list[Evidence]:
        lead = view.findings.get("lead") or {}
        intent = lead.get("intent", "none")
        if _INTENTS.index(intent) < _INTENTS.index(params.min_intent):
            return []
        turns = [t for t in lead.get("turns", []) if t in view.turn_ids] or [None]
        return [self._on(view, turns[0], f"lead `{intent}` {lead.get('product', '')}", lead.get("score", 1.0))]

    def _reason(self, view: CallView, params: FindingParams) -> list[Evidence]:
        for reason in view.findings.get("reasons", []):
            if reason["code"] == params.code and reason.get("score", 1.0) >= params.min_score:
                turns = [t for t in reason.get("turns", []) if t in view.turn_ids] or [None]
                return [self._on(view, turns[0], f"reason `{params.code}`", reason.get("score", 1.0))]
        return []

    def _sentiment(self, view: CallView, params: FindingParams) -> list[Evidence]:
        scores = (view.findings.get("sentiment") or {}).get("turns", [])
        return [self._on(view, t.index, f"{t.role} sentiment {scores[t.index]:.2f} < {params.below}", scores[t.index])
                for t in view.role_turns(params.role)
                if t.index < len(scores) and scores[t.index] is not None and scores[t.index] < (params.below or 0)]

    def _on(self, view: CallView, index: int | None, what: str, score: float) -> Evidence:
        turn = view.turn(index) if index is not None else None
        return Evidence(rule_id="", operator=self.name, role=turn.role if turn else None, turn=index,
                        start=turn.start if turn else None, end=turn.end if turn else None,
                        text=quote(turn.text, 0, 0, margin=40) if turn else "", score=float(score),
                        explanation=f"finding {what}" + (f" at turn #{index}" if index is not None else ""))
