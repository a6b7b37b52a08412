"""Speech operators: dead air without a hold notice, talking over the customer, speech rate,
call duration and turn count.

Silences and overlaps come from the call's ``Acoustics`` when it has them; otherwise they
are derived from the turn times (a gap between turns is a silence, an agent turn starting
inside a customer turn is an overlap). Calls without times give no speech evidence.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nlp.text import TurnText
from qa_rules.evidence import Evidence, clock, quote
from qa_rules.operators.base import Operator, OpParams, operators
from qa_rules.view import CallView

HOLD_WORDS = ["稍等", "稍候", "请您等", "请等", "耐心等待", "帮您查", "给您查", "为您查", "查询一下", "核实一下", "看一下"]


class SilenceParams(OpParams):
    """Silences longer than ``longer_than`` seconds not announced in the agent's last turn(s)."""

    longer_than: float = Field(10.0, gt=0)
    hold_words: list[str] = Field(default_factory=lambda: list(HOLD_WORDS))
    lookback_turns: int = Field(1, ge=0, description="agent turns before the silence searched for a hold notice")


@operators.register("silence", aliases=["dead_air"])
class SilenceOp(Operator):
    """Dead air: a silence longer than N s with no hold notice (请稍等 ...) just before it.

    ```yaml
    - id: dead_air
      name: 静音
      code: long_silence
      when:
        silence: {longer_than: 10, hold_words: [请稍等, 帮您查询]}
    ```
    """

    Params = SilenceParams

    def evaluate(self, view: CallView, params: SilenceParams) -> list[Evidence]:
        """One record per unannounced silence."""
        hits = []
        for start, end in self._silences(view):
            if end - start <= params.longer_than:
                continue
            before = [t for t in view.turns if t.role == "agent" and t.end is not None and t.end <= start + 0.05]
            notice = before[-params.lookback_turns:] if params.lookback_turns else []
            if any(w in t.text for t in notice for w in params.hold_words):
                continue
            last = before[-1] if before else None
            hits.append(Evidence(rule_id="", operator=self.name, role=None, turn=last.index if last else None,
                                 start=start, end=end, text=quote(last.text, len(last.text)) if last else "",
                                 score=1.0, explanation=f"silence of {end - start:.1f} s at {clock(start)} "
                                                        f"with no hold notice"))
        return hits

    def _silences(self, view: CallView) -> list[tuple[float, float]]:
        timed = [t for t in view.turns if t.start is not None and t.end is not None]
        if not timed:
            return []
        lo, hi = timed[0].start or 0.0, timed[-1].end or 0.0
        if view.silences:
            return [(s.start, s.end) for s in view.silences if lo - 0.05 <= s.start and s.end <= hi + 0.05]
        gaps, reached = [], timed[0].end or 0.0
        for turn in timed[1:]:
            if (turn.start or 0.0) > reached:
                gaps.append((reached, turn.start or 0.0))
            reached = max(reached, turn.end or 0.0)
        return gaps


class OvertalkParams(OpParams):
    """Agent starts while the customer speaks, overlapping at least ``min_overlap`` s, ``min_count`` times."""

    min_overlap: float = Field(0.5, ge=0, description="seconds of overlap before it counts (the delay)")
    min_count: int = Field(2, ge=1)


@operators.register("overtalk", aliases=["interrupt"])
class OvertalkOp(Operator):
    """Talking over the customer (抢话), counted after a delay.

    ```yaml
    - id: talks_over_customer
      name: 抢话
      code: interruption
      when:
        overtalk: {min_overlap: 1.0, min_count: 2}
    ```
    """

    Params = OvertalkParams

    def evaluate(self, view: CallView, params: OvertalkParams) -> list[Evidence]:
        """One record per interruption, only if there are ``min_count`` of them."""
        hits = [self._record(view, start, end) for start, end in self._overlaps(view)
                if end - start >= params.min_overlap]
        return hits if len(hits) >= params.min_count else []

    def _overlaps(self, view: CallView) -> list[tuple[float, float]]:
        if view.overlaps:
            ids = view.turn_ids
            timed = [t for t in view.all_turns if t.index in ids and t.start is not None]
            lo = min((t.start or 0.0 for t in timed), default=0.0)
            hi = max((t.end or 0.0 for t in timed), default=0.0)
            return [(s.start, s.end) for s in view.overlaps
                    if s.who in (None, "agent") and s.over in (None, "customer") and lo - 0.05 <= s.start <= hi]
        out = []
        customer = [t for t in view.all_turns if t.role == "customer" and t.start is not None and t.end is not None]
        for agent in (t for t in view.turns if t.role == "agent" and t.start is not None):
            for cust in customer:
                if (cust.start or 0.0) < (agent.start or 0.0) < (cust.end or 0.0):
                    out.append((agent.start or 0.0, min(cust.end or 0.0, agent.end or 0.0)))
                    break
        return out

    def _record(self, view: CallView, start: float, end: float) -> Evidence:
        turn = next((t for t in view.turns if t.role == "agent" and t.start is not None
                     and abs((t.start or 0.0) - start) < 0.5), None)
        return Evidence(rule_id="", operator=self.name, role="agent", turn=turn.index if turn else None,
                        start=start, end=end, text=quote(turn.text, 0, 0, margin=30) if turn else "",
                        explanation=f"agent talked over the customer for {end - start:.1f} s at {clock(start)}")


class RangeParams(OpParams):
    """``above`` and/or ``below`` a value."""

    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> RangeParams:
        if self.above is None and self.below is None:
            raise ValueError("give `above` and/or `below`")
        return self

    def hit(self, value: float) -> bool:
        """Whether ``value`` is outside the allowed range (above ``above`` or below ``below``)."""
        return (self.above is not None and value > self.above) or (self.below is not None and value < self.below)


@operators.register("duration")
class DurationOp(Operator):
    """Call length in seconds above / below a bound (judged when the call ends).

    ```yaml
    - id: very_short_call
      name: 通话过短
      severity: info
      when:
        duration: {below: 20}
    ```
    """

    Params = RangeParams
    monotone = False

    def evaluate(self, view: CallView, params: RangeParams) -> list[Evidence]:
        """One record when the duration is out of range."""
        seconds = view.duration_s
        if seconds is None or not params.hit(seconds):
            return []
        return [Evidence(rule_id="", operator=self.name, start=0.0, end=seconds,
                         explanation=f"call lasted {seconds:.1f} s")]


class TurnCountParams(RangeParams):
    """Turns of a role above / below a bound."""

    role: Literal["agent", "customer", "any"] | None = None


@operators.register("turn_count", aliases=["turns"])
class TurnCountOp(Operator):
    """Number of turns of a role above / below a bound.

    ```yaml
    - id: customer_barely_spoke
      name: 客户发言过少
      severity: info
      when:
        turn_count: {role: customer, below: 2}
    ```
    """

    Params = TurnCountParams
    monotone = False

    def evaluate(self, view: CallView, params: TurnCountParams) -> list[Evidence]:
        """One record when the count is out of range."""
        role = params.role or "any"
        count = len(view.role_turns(role))
        if not params.hit(count):
            return []
        return [Evidence(rule_id="", operator=self.name, role=None if role == "any" else role,
                         explanation=f"{count} {role} turns")]


class SpeechRateParams(RangeParams):
    """Characters per minute of a role's turns above / below a bound."""

    role: Literal["agent", "customer", "any"] | None = None
    min_seconds: float = Field(2.0, ge=0, description="shorter turns are not rated")


@operators.register("speech_rate", aliases=["rate"])
class SpeechRateOp(Operator):
    """Speech rate per turn, in characters per minute, above / below a bound.

    ```yaml
    - id: agent_too_fast
      name: 语速过快
      severity: minor
      scope: {role: agent}
      when:
        speech_rate: {above: 320}
    ```
    """

    Params = SpeechRateParams

    def evaluate(self, view: CallView, params: SpeechRateParams) -> list[Evidence]:
        """One record per turn whose rate is out of range."""
        hits = []
        for turn in view.role_turns(params.role or "any"):
            rate = _rate(turn, params.min_seconds)
            if rate is not None and params.hit(rate):
                hits.append(self.turn_evidence(turn, (0, 0), f"rate {rate:.0f} chars/min"))
        return hits


def _rate(turn: TurnText, min_seconds: float) -> float | None:
    if turn.start is None or turn.end is None or turn.end - turn.start < max(min_seconds, 1e-6):
        return None
    chars = sum(1 for ch in turn.text if ch.isalnum())
    return chars * 60.0 / (turn.end - turn.start)
