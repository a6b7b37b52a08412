"""Error codes and exceptions of rule books, in one catalogue (tests assert codes, not prose).

Load-time problems (``RuleSyntaxError`` for YAML/structure, ``RuleValidationError`` for
meaning: unknown operator, bad regex, unknown code) are kept apart from run-time ones
(``RuleEvaluationError``). Every load-time error carries a ``RuleLocation`` (file, rule, line)
and prints it, so the QA team can find the entry to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


class Errors:
    """User-facing messages with codes; format them with ``Errors.E101.format(...)``."""

    E100 = "E100 cannot read rule book ({reason})"
    E101 = "E101 unknown operator {name!r}; available: {available}"
    E102 = "E102 bad parameters for {operator!r}: {reason}"
    E103 = "E103 bad regular expression {pattern!r} ({reason})"
    E104 = "E104 rule id {rule_id!r} is defined twice (first on line {first})"
    E105 = "E105 unknown {section} code {code!r}; known: {known}"
    E106 = "E106 a condition is one mapping with one key (an operator or and/or/not/position), got {got}"
    E107 = "E107 unknown dimension {dimension!r}; the scorecard has: {known}"
    E108 = "E108 {field}: {reason}"
    E109 = "E109 key {key!r} is defined twice (first on line {first})"
    E110 = "E110 unknown named condition {name!r}; defined: {known}"
    E201 = "E201 rule {rule_id!r} failed on call {call_id!r}: {reason}"


@dataclass(frozen=True, slots=True)
class RuleLocation:
    """Where a problem is: the rule-book file, the rule id (if inside a rule) and the line."""

    path: str = ""
    rule_id: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = [self.path or "<rule book>"]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.rule_id:
            parts.append(f"rule {self.rule_id!r}")
        return ", ".join(parts)


class RuleBookError(ValueError):
    """A rule book that cannot be used; ``errors`` holds every problem when collected."""

    def __init__(self, message: str, source: RuleLocation | None = None,
                 errors: list[RuleBookError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source or RuleLocation()
        self.errors: list[RuleBookError] = errors if errors is not None else [self]

    @property
    def code(self) -> str:
        """The catalogue code (``E101`` ...) the message starts with."""
        return self.message.split(" ", 1)[0]

    def __str__(self) -> str:
        if len(self.errors) > 1 or self.errors[0] is not self:
            return f"{len(self.errors)} problem(s):\n" + "\n".join(f"  {e}" for e in self.errors)
        return f"{self.source}: {self.message}"


class RuleSyntaxError(RuleBookError):
    """The file is not YAML, or its structure does not fit the rule-book schema."""


class RuleValidationError(RuleBookError):
    """The structure is right but the meaning is not: operator, regex, code, dimension."""


class RuleEvaluationError(RuntimeError):
    """An operator failed while a call was checked (a bug or a broken input, never bad YAML)."""
