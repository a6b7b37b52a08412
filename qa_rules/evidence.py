"""One frozen record of why a rule fired: the turn, the time, the quoted words and the operator.

Every operator returns ``Evidence``; the engine stamps the rule id on it. Evidence of an
*absence* (a ``not`` node, ``keyword none``, ``script_point absent``) has ``turn`` set to the
first turn that was searched, or ``None`` when nothing was searched, and says in
``explanation`` what was looked for and where, so a reviewer can confirm it in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why one operator matched: where in the call, which words, how sure."""

    rule_id: str
    operator: str
    role: str | None = None
    turn: int | None = None
    start: float | None = None
    end: float | None = None
    text: str = ""
    score: float = 1.0
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (floats rounded to milliseconds)."""
        out = asdict(self)
        for key in ("start", "end"):
            if out[key] is not None:
                out[key] = round(out[key], 3)
        out["score"] = round(self.score, 3)
        return out


def clock(seconds: float | None) -> str:
    """``mm:ss`` of a time in the call, or ``--:--`` when the time is unknown."""
    if seconds is None:
        return "--:--"
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def quote(text: str, start: int = 0, end: int | None = None, *, margin: int = 12) -> str:
    """The matched words with a little context either side, for a reviewer to read."""
    end = len(text) if end is None else end
    left = max(0, start - margin)
    right = min(len(text), end + margin)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")
