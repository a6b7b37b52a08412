"""Conditions as a tree: operator leaves combined with and / or / not, narrowed by position,
related by ``near``, and shared through named conditions (``ref``).

Each node's ``run(view)`` returns ``(matched, evidence)``: evidence is unioned under ``or``,
kept from every child under ``and`` (all are satisfied when it matches), and under ``not``
it records the absence (what was searched, where). A list where a condition is expected
means ``and``. ``parse_node`` turns the YAML value into nodes and reports every problem with
its path inside the rule, so the loader can point at the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from nlp.taxonomy import Taxonomy
from qa_rules.errors import Errors
from qa_rules.evidence import Evidence
from qa_rules.operators import Operator, OpParams, operators
from qa_rules.operators.base import absence
from qa_rules.view import CallView

COMBINATORS = ("and", "or", "not", "position", "near", "without_prior", "ref")
operators.reserved = COMBINATORS
Path = tuple[str | int, ...]
Problem = tuple[Path, str]


class Node:
    """A condition; subclasses implement ``run``."""

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        """Whether the condition holds in ``view`` and the evidence for it."""
        raise NotImplementedError

    def grows(self) -> bool:
        """Whether a match survives more turns (so it can be reported while the call goes on)."""
        return False

    def describe(self) -> str:
        """Short text for absence evidence."""
        return type(self).__name__


@dataclass(eq=False)
class OpNode(Node):
    """One operator with its validated parameters."""

    op: Operator
    params: Any

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        evidence = self.op.evaluate(view, self.params)
        return bool(evidence), evidence

    def grows(self) -> bool:
        return self.op.grows(self.params)

    def describe(self) -> str:
        shown = self.params.model_dump(exclude_defaults=True, exclude_none=True)
        return f"{self.op.name} {shown}"[:80]


@dataclass(eq=False)
class AllOf(Node):
    """``and``: every child holds; evidence of all of them."""

    children: list[Node]

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        evidence: list[Evidence] = []
        for child in self.children:
            ok, found = child.run(view)
            if not ok:
                return False, []
            evidence += found
        return True, evidence

    def grows(self) -> bool:
        return all(c.grows() for c in self.children)

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.children)


@dataclass(eq=False)
class AnyOf(Node):
    """``or``: some child holds; evidence of every child that holds."""

    children: list[Node]

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        evidence: list[Evidence] = []
        matched = False
        for child in self.children:
            ok, found = child.run(view)
            matched |= ok
            evidence += found if ok else []
        return matched, evidence

    def grows(self) -> bool:
        return all(c.grows() for c in self.children)

    def describe(self) -> str:
        return " or ".join(c.describe() for c in self.children)


@dataclass(eq=False)
class Not(Node):
    """``not``: the child does not hold; the evidence says what was searched and where."""

    child: Node

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        ok, _ = self.child.run(view)
        return (False, []) if ok else (True, [absence(view, "not", "any", f"match of {self.child.describe()}")])

    def describe(self) -> str:
        return f"not ({self.child.describe()})"


class PositionParams(OpParams):
    """The window: turns of ``role``, the first / last N of them, or within the first / last N s."""

    role: Literal["agent", "customer", "any"] | None = None
    first: int | None = Field(None, ge=1)
    last: int | None = Field(None, ge=1)
    first_s: float | None = Field(None, gt=0)
    last_s: float | None = Field(None, gt=0)
    when: Any

    @model_validator(mode="after")
    def _one_window(self) -> PositionParams:
        if sum(x is not None for x in (self.first, self.last, self.first_s, self.last_s)) != 1:
            raise ValueError("give exactly one of first / last / first_s / last_s")
        return self


@dataclass(eq=False)
class Position(Node):
    """The child, evaluated on a window of the call only."""

    params: PositionParams
    child: Node

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        return self.child.run(view.window(self.turns(view)))

    def turns(self, view: CallView) -> list[Any]:
        """The turns inside the window."""
        p = self.params
        turns = view.role_turns(p.role or "any")
        if p.first is not None:
            return turns[:p.first]
        if p.last is not None:
            return turns[-p.last:]
        if p.first_s is not None:
            return [t for t in turns if t.start is not None and t.start < p.first_s]
        end = view.duration_s or 0.0
        return [t for t in turns if t.end is not None and t.end > end - (p.last_s or 0.0)]

    def grows(self) -> bool:
        return self.params.first is not None and self.child.grows()

    def describe(self) -> str:
        return self.child.describe()


class NearParams(OpParams):
    """``when`` hits within ``before`` turns before or ``after`` turns after an ``anchor`` hit."""

    when: Any
    anchor: Any
    before: int = Field(0, ge=0)
    after: int = Field(0, ge=0)


@dataclass(eq=False)
class Near(Node):
    """A hit of ``when`` close (in turns) to a hit of ``anchor``; evidence of both."""

    params: NearParams
    child: Node
    anchor: Node

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        ok, hits = self.child.run(view)
        ok_anchor, anchors = self.anchor.run(view) if ok else (False, [])
        if not ok_anchor:
            return False, []
        close = [(h, a) for h in hits for a in anchors if h.turn is not None and a.turn is not None
                 and a.turn - self.params.before <= h.turn <= a.turn + self.params.after]
        evidence = list(dict.fromkeys([e for pair in close for e in pair]))
        return bool(close), evidence

    def describe(self) -> str:
        return f"{self.child.describe()} near {self.anchor.describe()}"


class WithoutPriorParams(OpParams):
    """``when`` hits with no hit of ``prior`` in any earlier turn (identity check before a change)."""

    when: Any
    prior: Any


@dataclass(eq=False)
class WithoutPrior(Node):
    """The first hit of ``when`` has no hit of ``prior`` before it; evidence of that hit and the absence."""

    child: Node
    prior: Node

    def run(self, view: CallView) -> tuple[bool, list[Evidence]]:
        ok, hits = self.child.run(view)
        turns = [h.turn for h in hits if h.turn is not None]
        if not ok or not turns:
            return False, []
        first = min(turns)
        earlier = view.window(t for t in view.turns if t.index < first)
        if self.prior.run(earlier)[0]:
            return False, []
        gone = absence(earlier, "without_prior", "any", f"{self.prior.describe()} before turn #{first}")
        return True, [h for h in hits if h.turn == first] + [gone]

    def grows(self) -> bool:
        return self.child.grows()  # the first hit and the turns before it never change

    def describe(self) -> str:
        return f"{self.child.describe()} without prior {self.prior.describe()}"


@dataclass
class Parser:
    """Builds nodes from YAML values, collecting problems as (path, message)."""

    taxonomy: Taxonomy | None = None
    conditions: dict[str, Node] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def parse(self, raw: Any, path: Path, role: str | None) -> Node | None:
        """The node for ``raw`` (None if it has problems, which are recorded)."""
        if isinstance(raw, list):
            kids = [self.parse(item, (*path, i), role) for i, item in enumerate(raw)]
            return AllOf([k for k in kids if k]) if raw and all(kids) else self._fail(path, "empty list", kids)
        if not isinstance(raw, dict) or len(raw) != 1:
            got = f"{type(raw).__name__} with keys {sorted(map(str, raw))}" if isinstance(raw, dict) else repr(raw)
            return self._problem(path, Errors.E106.format(got=got[:80]))
        (name, body), = raw.items()
        handler: Callable[[Any, Path, str | None], Node | None] | None = getattr(self, f"_{name}", None)
        if name in COMBINATORS and handler:
            return handler(body, (*path, name), role)
        return self._operator(str(name), body, (*path, name), role)

    def _fail(self, path: Path, what: str, kids: list[Node | None]) -> None:
        if not kids:
            self._problem(path, Errors.E108.format(field="condition", reason=what))

    def _problem(self, path: Path, message: str) -> None:
        self.problems.append((path, message))

    def _operator(self, name: str, body: Any, path: Path, role: str | None) -> Node | None:
        try:
            cls = operators.get(name)
        except KeyError as exc:
            return self._problem(path, str(exc.args[0]))
        op = cls()
        body = body if body is not None else {}
        if isinstance(body, dict) and "role" in cls.Params.model_fields and body.get("role") is None and role:
            body = {**body, "role": role}
        params = self._params(cls.Params, body, path, name)
        if params is None:
            return None
        problems = op.check(params, self.taxonomy)
        for message in problems:
            self._problem(path, message)
        return None if problems else OpNode(op, params)

    def _params(self, model: type[OpParams], body: Any, path: Path, name: str) -> Any:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(map(str, err["loc"])) or "parameters"
                self._problem((*path, *err["loc"]), Errors.E102.format(operator=name, reason=f"{where}: {err['msg']}"))
            return None

    def _and(self, body: Any, path: Path, role: str | None) -> Node | None:
        return self._list(body, path, role, AllOf)

    def _or(self, body: Any, path: Path, role: str | None) -> Node | None:
        return self._list(body, path, role, AnyOf)

    def _list(self, body: Any, path: Path, role: str | None, kind: type[AllOf | AnyOf]) -> Node | None:
        if not isinstance(body, list) or not body:
            return self._problem(path, Errors.E108.format(field=path[-1], reason="expects a non-empty list of conditions"))
        kids = [self.parse(item, (*path, i), role) for i, item in enumerate(body)]
        return kind([k for k in kids if k]) if all(kids) else None

    def _not(self, body: Any, path: Path, role: str | None) -> Node | None:
        child = self.parse(body, path, role)
        return Not(child) if child else None

    def _position(self, body: Any, path: Path, role: str | None) -> Node | None:
        params = self._params(PositionParams, body, path, "position")
        if params is None:
            return None
        params = params.model_copy(update={"role": params.role or role})
        child = self.parse(params.when, (*path, "when"), role)
        return Position(params, child) if child else None

    def _near(self, body: Any, path: Path, role: str | None) -> Node | None:
        params = self._params(NearParams, body, path, "near")
        if params is None:
            return None
        child = self.parse(params.when, (*path, "when"), role)
        anchor = self.parse(params.anchor, (*path, "anchor"), role)
        return Near(params, child, anchor) if child and anchor else None

    def _without_prior(self, body: Any, path: Path, role: str | None) -> Node | None:
        params = self._params(WithoutPriorParams, body, path, "without_prior")
        if params is None:
            return None
        child = self.parse(params.when, (*path, "when"), role)
        prior = self.parse(params.prior, (*path, "prior"), role)
        return WithoutPrior(child, prior) if child and prior else None

    def _ref(self, body: Any, path: Path, role: str | None) -> Node | None:
        if not isinstance(body, str) or body not in self.conditions:
            return self._problem(path, Errors.E110.format(name=body, known=", ".join(self.conditions) or "none"))
        return self.conditions[body]
