"""Build small calls for finder tests: turns given as (role, text[, start, end])."""

from __future__ import annotations

from callscope.types import Conversation, Turn
from nlp.text import CallText, call_text


def make_call(turns: list[tuple], *, call_id: str = "t-1", **meta) -> CallText:
    """A normalised, segmented call from (role, text) or (role, text, start, end) tuples."""
    built = [Turn(role=t[0], text=t[1], start=t[2] if len(t) > 2 else None, end=t[3] if len(t) > 3 else None)
             for t in turns]
    return call_text(Conversation(call_id=call_id, turns=built, extra=dict(meta)))
