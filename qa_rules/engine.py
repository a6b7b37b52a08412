"""Check a call against a rule book: the violations with their evidence and the 0-100 scorecard.

Every rule whose scope fits the call's metadata is evaluated; a rule whose condition holds
is a violation (or, with ``effect: add``, a bonus). Each dimension starts at its weight,
loses the points of its violations and gains its bonuses (kept within 0..weight); the score
is the dimensions' sum scaled to 100, and any ``fatal`` violation makes it 0 (一票否决).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from qa_rules.errors import Errors, RuleEvaluationError
from qa_rules.evidence import Evidence
from qa_rules.schema import Rule, RuleBook
from qa_rules.view import CallView


@dataclass(frozen=True, slots=True)
class Violation:
    """One fired rule and the evidence for it (first item: the one to show)."""

    rule: Rule
    evidence: tuple[Evidence, ...]

    @property
    def main(self) -> Evidence | None:
        """The evidence to show first: the first one that points at a turn."""
        return next((e for e in self.evidence if e.turn is not None), self.evidence[0] if self.evidence else None)

    @property
    def points(self) -> float:
        """Points this violation moves (per distinct evidence turn with ``per_hit``)."""
        if not self.rule.per_hit:
            return self.rule.points
        return self.rule.points * max(1, len({e.turn for e in self.evidence if e.turn is not None}))

    def to_dict(self, *, with_evidence: bool = False) -> dict[str, Any]:
        """The contract entry: rule, name, code, turn, start, evidence (quoted), operator."""
        main = self.main
        out: dict[str, Any] = {
            "rule": self.rule.id, "name": self.rule.name, "code": self.rule.code,
            "severity": self.rule.severity, "fatal": self.rule.fatal, "points": self.points,
            "effect": self.rule.effect,
            "turn": main.turn if main else None,
            "start": round(main.start, 3) if main and main.start is not None else None,
            "evidence": main.text if main else "", "explanation": main.explanation if main else "",
            "operator": main.operator if main else None,
        }
        if with_evidence:
            out["details"] = [e.to_dict() for e in self.evidence]
        return out


@dataclass(frozen=True, slots=True)
class QaResult:
    """A call's violations and scorecard under one rule book."""

    rulebook: str
    score: int
    fatal: bool
    violations: tuple[Violation, ...]
    dimensions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def codes(self) -> set[str]:
        """Taxonomy codes of the deductions that fired."""
        return {v.rule.code for v in self.violations if v.rule.code and v.rule.effect == "deduct"}

    def to_dict(self, *, with_evidence: bool = False) -> dict[str, Any]:
        """``{"score", "fatal", "rulebook", "violations": [...], "dimensions": {...}}``."""
        return {"rulebook": self.rulebook, "score": self.score, "fatal": self.fatal,
                "violations": [v.to_dict(with_evidence=with_evidence) for v in self.violations],
                "dimensions": self.dimensions}


def check_call(book: RuleBook, view: CallView) -> QaResult:
    """Every violation of ``book`` in the call and its scorecard."""
    return scorecard(book, [v for rule in applicable(book, view.meta) if (v := fire(rule, view))])


def applicable(book: RuleBook, meta: dict[str, Any]) -> list[Rule]:
    """The rules of ``book`` whose scope fits a call with this metadata."""
    return [r for r in book.rules if r.scope.applies(meta)]


def fire(rule: Rule, view: CallView) -> Violation | None:
    """The violation of ``rule`` in ``view``, or None; operator failures become ``RuleEvaluationError``."""
    try:
        matched, evidence = rule.when.run(view)
    except Exception as exc:
        raise RuleEvaluationError(Errors.E201.format(rule_id=rule.id, call_id=view.call_id,
                                                     reason=f"{type(exc).__name__}: {exc}")) from exc
    if not matched:
        return None
    return Violation(rule, tuple(replace(e, rule_id=rule.id) for e in dict.fromkeys(evidence)))


def scorecard(book: RuleBook, violations: list[Violation]) -> QaResult:
    """Dimension scores, the 0-100 total and the fatal flag of these violations."""
    moved: dict[str, float] = {d: 0.0 for d in book.dimensions}
    for v in violations:
        moved[v.rule.dimension] += v.points if v.rule.effect == "add" else -v.points
    dims = {}
    for key, dim in book.dimensions.items():
        score = min(dim.weight, max(0.0, dim.weight + moved[key]))
        dims[key] = {"name": dim.name, "weight": dim.weight, "score": round(score, 2)}
    total_weight = sum(d.weight for d in book.dimensions.values())
    fatal = any(v.rule.fatal for v in violations)
    score = 0 if fatal else round(100 * sum(d["score"] for d in dims.values()) / total_weight)
    return QaResult(book.name, int(score), fatal, tuple(violations), dims)
