"""The operator contract and the registry operators join by decorator.

An operator is a class with ``name`` (set by the registry), a pydantic ``Params`` model that
forbids unknown keys, an optional ``check`` hook for meaning (regex compiles, codes exist) and
``evaluate(view, params) -> list[Evidence]``: an empty list means "no match". ``grows``
says whether a match survives more turns being added, so the incremental runner may report it
while the call is still going.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from nlp.taxonomy import Taxonomy
from nlp.text import TurnText
from qa_rules.errors import Errors
from qa_rules.evidence import Evidence, clock, quote
from qa_rules.view import CallView

Role = Literal["agent", "customer", "any"]


class OpParams(BaseModel):
    """Base of every ``Params`` model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TurnParams(OpParams):
    """Parameters shared by operators that read turn text: whose turns, how many hits needed."""

    role: Role | None = Field(None, description="whose turns; default: the rule's scope role")
    min_count: int = Field(1, ge=1, description="turns that must hit (N-th occurrence, repeated N times)")


class Operator:
    """Base class; subclasses set ``Params`` and implement ``evaluate``."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[OpParams]] = OpParams
    monotone: ClassVar[bool] = True

    def grows(self, params: Any) -> bool:
        """Whether a match, once made, survives more turns (so it may be reported live)."""
        return self.monotone

    def check(self, params: Any, taxonomy: Taxonomy | None) -> list[str]:
        """Problems with the meaning of ``params`` (E-coded messages); none by default."""
        return []

    def evaluate(self, view: CallView, params: Any) -> list[Evidence]:
        """Evidence of every match in ``view``; empty when the operator does not match."""
        raise NotImplementedError

    def turn_evidence(self, turn: TurnText, span: tuple[int, int], what: str, score: float = 1.0) -> Evidence:
        """Evidence of a match at ``span`` (characters) in one turn."""
        return Evidence(rule_id="", operator=self.name, role=turn.role, turn=turn.index,
                        start=turn.start, end=turn.end, text=quote(turn.text, *span), score=score,
                        explanation=f"{self.name} {what} matched in {turn.role} turn #{turn.index} "
                                    f"at {clock(turn.start)}")

    def absence_evidence(self, view: CallView, role: str, what: str) -> Evidence:
        """Evidence that something was *not* found: the first turn searched and what was looked for."""
        return absence(view, self.name, role, what)


def absence(view: CallView, operator: str, role: str, what: str) -> Evidence:
    """Evidence of an absence: the first turn of ``role`` searched in ``view`` and what was missing."""
    searched = view.role_turns(role)
    first = searched[0] if searched else None
    where = f"{role} turns #{searched[0].index}-#{searched[-1].index}" if searched else f"no {role} turns"
    return Evidence(rule_id="", operator=operator, role=None if role == "any" else role,
                    turn=first.index if first else None, start=first.start if first else None,
                    end=searched[-1].end if searched else None,
                    text=quote(first.text, 0, 0, margin=40) if first else "",
                    explanation=f"{operator}: no {what} in {where}")


class Registry:
    """Named operator classes; aliases resolve to the same class."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, type[Operator]] = {}
        self._aliases: dict[str, str] = {}
        self.reserved: tuple[str, ...] = ()

    def register(self, name: str, *, aliases: tuple[str, ...] | list[str] = ()) -> Callable[[type[Operator]], type[Operator]]:
        """Class decorator: make the operator available under ``name`` (and ``aliases``)."""
        def add(cls: type[Operator]) -> type[Operator]:
            for key in (name, *aliases):
                if key in self._classes or key in self._aliases:
                    raise ValueError(f"{self.kind} {key!r} is registered twice")
            cls.name = name
            self._classes[name] = cls
            self._aliases.update({alias: name for alias in aliases})
            return cls
        return add

    def names(self) -> list[str]:
        """Every registered name (aliases excluded), sorted."""
        return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes or name in self._aliases

    def get(self, name: str) -> type[Operator]:
        """The operator class called ``name``; ``KeyError`` listing what is available."""
        key = self._aliases.get(name, name)
        if key not in self._classes:
            available = ", ".join(sorted([*self._classes, *self.reserved]))
            raise KeyError(Errors.E101.format(name=name, available=available))
        return self._classes[key]


operators = Registry("operator")


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> re.Pattern[str]:
    """A compiled regex, cached (rule books reuse patterns across rules and calls)."""
    return re.compile(pattern)


def regex_problem(pattern: str | None) -> list[str]:
    """E103 if ``pattern`` does not compile."""
    if pattern is None:
        return []
    try:
        compiled(pattern)
    except re.error as exc:
        return [Errors.E103.format(pattern=pattern, reason=exc)]
    return []
