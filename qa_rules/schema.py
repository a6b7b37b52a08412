"""The rule book as typed models: the YAML structure (stage 1) and the compiled book the engine runs.

Stage 1 is pydantic over the YAML (``RuleBookSpec``; ``rulebook_json_schema()`` exports it
for editors). Stage 2, in the loader, gives each rule its condition tree (operators check
their own parameters: regexes compile, codes exist) and checks cross references (unique
ids, dimensions, taxonomy codes). ``RuleBook`` and ``Rule`` are what comes out: frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from qa_rules.nodes import Node

Severity = Literal["info", "minor", "major", "critical"]
RULE_ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Scope(_Strict):
    """Whose turns a rule reads and which calls it applies to (unset: all)."""

    role: Literal["agent", "customer", "any"] = "agent"
    direction: list[Literal["inbound", "outbound"]] | None = None
    industry: list[str] | None = None
    queue: list[str] | None = None

    _lists = field_validator("direction", "industry", "queue", mode="before")(_as_list)

    def applies(self, meta: dict[str, Any]) -> bool:
        """Whether a call with this metadata is in scope (unknown metadata: yes)."""
        for key in ("direction", "industry", "queue"):
            allowed, value = getattr(self, key), meta.get(key)
            if allowed is not None and value is not None and value not in allowed:
                return False
        return True


class RuleSpec(_Strict):
    """One rule as written: id, name, taxonomy code, scoring and the condition ``when``."""

    id: str = Field(pattern=RULE_ID)
    name: str = Field(min_length=1)
    code: str | None = None
    description: str = ""
    severity: Severity = "major"
    points: float = Field(0.0, ge=0)
    effect: Literal["deduct", "add"] = "deduct"
    per_hit: bool = False
    fatal: bool = False
    dimension: str | None = None
    enabled: bool = True
    scope: Scope = Scope()
    when: Any = Field(description="a condition: one operator / and / or / not / position / near / ref")


class DimensionSpec(_Strict):
    """A scorecard dimension and its weight (its share of the 0-100 score)."""

    name: str = ""
    weight: float = Field(gt=0)


class ScorecardSpec(_Strict):
    """Dimensions with weights; a rule without a dimension falls in ``default_dimension``."""

    dimensions: dict[str, DimensionSpec] = Field(default_factory=lambda: {"overall": DimensionSpec(name="总分", weight=100)})
    default_dimension: str | None = None


class RuleBookSpec(_Strict):
    """A whole rule book as written."""

    name: str = Field(min_length=1)
    version: str | int = 1
    description: str = ""
    applies_to: Scope = Scope(role="any")
    fallback: bool = Field(False, description="use this book for calls of its direction no book's industry fits")
    scorecard: ScorecardSpec = ScorecardSpec()
    conditions: dict[str, Any] = Field(default_factory=dict, description="named conditions for `ref`")
    rules: list[RuleSpec] = Field(min_length=1)


def rulebook_json_schema() -> dict[str, Any]:
    """JSON Schema of the rule-book file, for editors."""
    return RuleBookSpec.model_json_schema()


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule: the spec fields the engine needs plus its condition tree."""

    id: str
    name: str
    code: str | None
    severity: str
    points: float
    effect: str
    per_hit: bool
    fatal: bool
    dimension: str
    scope: Scope
    when: Node
    line: int | None = None

    @property
    def live(self) -> bool:
        """Whether a hit can be reported while the call is still going."""
        return self.when.grows()


@dataclass(frozen=True, slots=True)
class RuleBook:
    """A validated rule book; only ``load_rulebook`` makes these."""

    name: str
    version: str
    path: str
    applies_to: Scope
    fallback: bool
    dimensions: dict[str, DimensionSpec]
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        """A rule by id (KeyError if absent)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
