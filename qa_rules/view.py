"""What rules look at: one call's turns, findings, acoustics and metadata in a single read-only view.

``call_view`` builds it from the pieces the analysis already has (``CallText``, the
``call_findings`` dict, ``Acoustics``, call metadata). ``CallView.window`` narrows the view
to some turns (the ``position`` node uses it); findings stay whole and operators keep only
those on turns inside the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from callscope.types import Acoustics, Span
from nlp.text import CallText, TurnText


@dataclass(frozen=True, slots=True)
class CallView:
    """A call as rules see it; ``turns`` may be a window of the whole call."""

    call_id: str
    turns: tuple[TurnText, ...]
    findings: dict[str, Any] = field(default_factory=dict)
    silences: tuple[Span, ...] = ()
    overlaps: tuple[Span, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    all_turns: tuple[TurnText, ...] = ()
    duration_s: float | None = None

    @property
    def turn_ids(self) -> frozenset[int]:
        """Indexes of the turns inside the window."""
        return frozenset(t.index for t in self.turns)

    def role_turns(self, role: str) -> list[TurnText]:
        """Turns in the window spoken by ``role`` (``any``: all of them)."""
        return list(self.turns) if role == "any" else [t for t in self.turns if t.role == role]

    def window(self, turns: Iterable[TurnText]) -> CallView:
        """The same call narrowed to ``turns``."""
        return replace(self, turns=tuple(turns))

    def turn(self, index: int) -> TurnText | None:
        """A turn of the whole call by index."""
        return self.all_turns[index] if 0 <= index < len(self.all_turns) else None

    @property
    def direction(self) -> str | None:
        """``inbound`` / ``outbound`` if known."""
        return self.meta.get("direction")

    @property
    def industry(self) -> str | None:
        """Industry of the call if known."""
        return self.meta.get("industry")


def call_view(call: CallText, findings: dict[str, Any] | None = None, acoustics: Acoustics | None = None,
              meta: dict[str, Any] | None = None, *, duration_s: float | None = None) -> CallView:
    """A ``CallView`` of a finished (or in-progress) call; ``meta`` adds to ``call.meta``."""
    turns = tuple(call.turns)
    return CallView(
        call_id=call.call_id, turns=turns, findings=dict(findings or {}),
        silences=tuple(acoustics.silences) if acoustics else (),
        overlaps=tuple(acoustics.overlaps) if acoustics else (),
        meta={**call.meta, **(meta or {})}, all_turns=turns,
        duration_s=duration_s if duration_s is not None else _last_end(turns))


def view_from_analysis(analysis: dict[str, Any]) -> CallView:
    """A ``CallView`` of an analysis dict (``Analyzer.analyze`` output or a saved analysis JSON)."""
    turns = tuple(TurnText(i, t["role"], t["text"], [], t.get("start"), t.get("end"))
                  for i, t in enumerate(analysis.get("turns", [])))
    acoustics = Acoustics.from_dict(analysis["acoustics"]) if analysis.get("acoustics") else None
    meta = {k: analysis[k] for k in ("direction", "industry", "queue") if k in analysis}
    keys = ("reasons", "script_points", "competitors", "lead", "sentiment", "pii")
    call = CallText(str(analysis.get("call_id", "")), list(turns), meta)
    return call_view(call, {k: analysis[k] for k in keys if k in analysis}, acoustics,
                     duration_s=analysis.get("duration_s"))


def _last_end(turns: Sequence[TurnText]) -> float | None:
    ends = [t.end for t in turns if t.end is not None]
    return max(ends) if ends else None
