"""Constructed calls for rule tests: turns from (role, text) or (role, text, start, end) rows."""

from __future__ import annotations

from typing import Any

from callscope.types import Acoustics, Span
from nlp.text import CallText, TurnText, normalise
from qa_rules import CallView, call_view
from qa_rules.nodes import Parser
from qa_rules.operators import operators


def make_view(rows: list[tuple[Any, ...]], *, findings: dict[str, Any] | None = None,
              silences: list[tuple[float, float]] | None = None,
              overlaps: list[tuple[float, float]] | None = None, meta: dict[str, Any] | None = None) -> CallView:
    """A call view; rows without times are untimed; acoustics only if silences/overlaps are given."""
    turns = []
    for i, row in enumerate(rows):
        role, text, *times = row
        start, end = (times + [None, None])[:2]
        turns.append(TurnText(i, role, normalise(text), [], start, end))
    acoustics = None
    if silences is not None or overlaps is not None:
        acoustics = Acoustics(talk_s={}, silence_s=0.0, overlap_s=0.0,
                              silences=[Span(s, e) for s, e in silences or []],
                              overlaps=[Span(s, e, "agent", "customer") for s, e in overlaps or []])
    return call_view(CallText("test-call", turns, {}), findings or {}, acoustics, meta or {})


def run_op(name: str, params: dict[str, Any], view: CallView) -> list:
    """Evidence of one operator on a view, parameters validated as the loader does."""
    cls = operators.get(name)
    return cls().evaluate(view, cls.Params.model_validate(params))


def run_node(raw: Any, view: CallView, role: str = "agent") -> tuple[bool, list]:
    """(matched, evidence) of a condition written as in a rule book."""
    parser = Parser()
    node = parser.parse(raw, ("when",), role)
    assert node is not None, parser.problems
    return node.run(view)
