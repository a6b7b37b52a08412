"""Rules on a call in progress: feed turns as they are transcribed, get live alerts, and at
the end the same ``QaResult`` as ``check_call`` on the finished call (the agent-assist API
reuses this).

After each turn the runner re-checks only rules whose hits cannot be undone by later turns
(``Rule.live``: a taboo word said, an unverified change made) and returns those that fired
for the first time. Rules about absences or the whole call (no closing, duration) are judged
in ``result()``, which evaluates the full book on everything seen so far.
"""

from __future__ import annotations

from typing import Any

from callscope.types import Acoustics
from nlp.text import CallText, TurnText
from qa_rules.engine import QaResult, Violation, applicable, check_call, fire
from qa_rules.schema import RuleBook
from qa_rules.view import CallView, call_view


class RuleRunner:
    """Incremental checking of one call against one rule book."""

    def __init__(self, book: RuleBook, meta: dict[str, Any] | None = None, *, call_id: str = "") -> None:
        self.book = book
        self.meta = dict(meta or {})
        self.call_id = call_id
        self._turns: list[TurnText] = []
        self._findings: dict[str, Any] = {}
        self._acoustics: Acoustics | None = None
        self._rules = applicable(book, self.meta)
        self._alerted: set[str] = set()

    def add_turn(self, turn: TurnText, findings_so_far: dict[str, Any] | None = None, *,
                 acoustics: Acoustics | None = None) -> list[Violation]:
        """Take the next turn (and the findings / acoustics so far); return rules newly fired live."""
        if turn.index != len(self._turns):
            raise ValueError(f"turn {turn.index} arrived, expected turn {len(self._turns)}")
        self._turns.append(turn)
        if findings_so_far is not None:
            self._findings = findings_so_far
        if acoustics is not None:
            self._acoustics = acoustics
        view = self.view()
        fresh = []
        for rule in self._rules:
            if rule.live and rule.id not in self._alerted and (hit := fire(rule, view)):
                self._alerted.add(rule.id)
                fresh.append(hit)
        return fresh

    def view(self) -> CallView:
        """The call so far as rules see it."""
        call = CallText(self.call_id, list(self._turns), {})
        return call_view(call, self._findings, self._acoustics, self.meta)

    def result(self) -> QaResult:
        """The result on everything seen so far (equal to ``check_call`` on the finished call)."""
        return check_call(self.book, self.view())
