"""Types shared by every stage: a call's turns and the acoustic facts measured on it.

The JSON shape is the corpus format (``shared/corpus/SCHEMA.md``): ``Conversation.to_dict`` writes
it and ``Conversation.from_dict`` reads it, keeping any field it does not model in ``extra`` so that
nothing a recorder or labeller put in a file is lost on the way through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["agent", "customer"]
ROLES: tuple[Role, ...] = ("agent", "customer")


def seconds_between(start: float | None, end: float | None) -> float:
    """Length of a stretch of the recording; 0 when either time is unknown."""
    if start is None or end is None:
        return 0.0
    return max(0.0, end - start)


@dataclass(slots=True)
class Turn:
    """One stretch of speech by one party, with its time in the recording (seconds)."""

    role: Role
    text: str
    start: float | None = None
    end: float | None = None
    confidence: float | None = None
    agitation: float | None = None

    @property
    def duration(self) -> float:
        """Seconds this turn lasts (0 when the transcript carries no times)."""
        return seconds_between(self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        """Corpus-format dict; optional fields are left out when unknown."""
        out: dict[str, Any] = {"role": self.role, "text": self.text}
        for key in ("start", "end", "confidence", "agitation"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 3)
        return out


@dataclass(slots=True)
class Span:
    """A time span in the call, optionally tied to who did what (silence, overlap)."""

    start: float
    end: float
    who: str | None = None
    over: str | None = None

    @property
    def duration(self) -> float:
        """Length of the span in seconds."""
        return max(0.0, self.end - self.start)

    def to_dict(self) -> dict[str, Any]:
        """JSON dict with the duration spelled out for readers."""
        out: dict[str, Any] = {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "duration": round(self.duration, 3),
        }
        if self.who is not None:
            out["who"] = self.who
        if self.over is not None:
            out["over"] = self.over
        return out


@dataclass(slots=True)
class Acoustics:
    """Per-call speech timing: talk time, dead air, overtalk and speech rate per role."""

    talk_s: dict[str, float]
    silence_s: float
    overlap_s: float
    silences: list[Span] = field(default_factory=list)
    overlaps: list[Span] = field(default_factory=list)
    speech_rate_cpm: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON dict in the shape of the ``acoustics`` field of the analysis contract."""
        return {
            "talk_s": {k: round(v, 2) for k, v in self.talk_s.items()},
            "silence_s": round(self.silence_s, 2),
            "overlap_s": round(self.overlap_s, 2),
            "silences": [s.to_dict() for s in self.silences],
            "overlaps": [s.to_dict() for s in self.overlaps],
            "speech_rate_cpm": {k: round(v, 1) for k, v in self.speech_rate_cpm.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Acoustics:
        """Inverse of ``to_dict`` (the ``duration`` keys are derived, so ignored)."""
        def spans(items: list[dict[str, Any]]) -> list[Span]:
            return [Span(s["start"], s["end"], s.get("who"), s.get("over")) for s in items]

        return cls(
            talk_s=dict(data.get("talk_s", {})),
            silence_s=float(data.get("silence_s", 0.0)),
            overlap_s=float(data.get("overlap_s", 0.0)),
            silences=spans(data.get("silences", [])),
            overlaps=spans(data.get("overlaps", [])),
            speech_rate_cpm=dict(data.get("speech_rate_cpm", {})),
        )


@dataclass(slots=True)
class Conversation:
    """A call: its id, turns in time order, and what is known about how they were obtained."""

    call_id: str
    turns: list[Turn]
    duration_s: float | None = None
    acoustics: Acoustics | None = None
    transcription: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Corpus-format dict: ``call_id``, metadata fields, ``turns``, then what we measured."""
        out: dict[str, Any] = {"call_id": self.call_id}
        out.update({k: v for k, v in self.extra.items() if k != "labels"})
        if self.duration_s is not None:
            out["duration_s"] = round(self.duration_s, 3)
        out["turns"] = [t.to_dict() for t in self.turns]
        if self.acoustics is not None:
            out["acoustics"] = self.acoustics.to_dict()
        if self.transcription is not None:
            out["transcription"] = self.transcription
        if "labels" in self.extra:
            out["labels"] = self.extra["labels"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        """Read a corpus-format dict; raises ``ValueError`` naming the first bad field."""
        if not isinstance(data, dict):
            raise ValueError("a call must be a JSON object")
        call_id = data.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ValueError("field 'call_id' is missing or not a non-empty string")
        raw_turns = data.get("turns")
        if not isinstance(raw_turns, list):
            raise ValueError("field 'turns' is missing or not a list")
        turns = [_turn_from_dict(i, t) for i, t in enumerate(raw_turns)]
        known = {"call_id", "turns", "duration_s", "acoustics", "transcription"}
        acoustics = data.get("acoustics")
        return cls(
            call_id=call_id,
            turns=turns,
            duration_s=data.get("duration_s"),
            acoustics=Acoustics.from_dict(acoustics) if acoustics else None,
            transcription=data.get("transcription"),
            extra={k: v for k, v in data.items() if k not in known},
        )


def _turn_from_dict(index: int, data: Any) -> Turn:
    """One turn from JSON, with an error that names the turn and the field at fault."""
    if not isinstance(data, dict):
        raise ValueError(f"turns[{index}] is not an object")
    role = data.get("role")
    if role not in ROLES:
        raise ValueError(f"turns[{index}].role is {role!r}; expected one of {', '.join(ROLES)}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError(f"turns[{index}].text is missing or not a string")
    values = {}
    for key in ("start", "end", "confidence", "agitation"):
        value = data.get(key)
        if value is not None and not isinstance(value, (int, float)):
            raise ValueError(f"turns[{index}].{key} is {value!r}; expected a number")
        values[key] = float(value) if value is not None else None
    return Turn(role=role, text=text, **values)


# --- findings of call understanding (nlp/, models/): the fields of ``<call_id>.analysis.json`` ---


@dataclass(slots=True)
class ReasonFinding:
    """Why the customer called: a taxonomy code, its score, the turns that carry it and their seconds."""

    code: str
    score: float
    turns: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Contract shape: ``{"code", "score", "turns", "seconds"}``."""
        return {"code": self.code, "score": round(self.score, 3), "turns": self.turns,
                "seconds": round(self.seconds, 2)}


@dataclass(slots=True)
class ScriptPoint:
    """The talk-track step one agent turn carries."""

    turn: int
    point: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Contract shape: ``{"turn", "point", "score"}``."""
        return {"turn": self.turn, "point": self.point, "score": round(self.score, 3)}


@dataclass(slots=True)
class CompetitorMention:
    """A competitor named in a turn: canonical brand, the words said, where, and about what."""

    turn: int
    brand: str
    mention: str
    dimension: str
    score: float
    char_start: int = 0
    char_end: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Contract shape plus the character span of the mention in the turn's text."""
        return {"turn": self.turn, "brand": self.brand, "mention": self.mention,
                "dimension": self.dimension, "score": round(self.score, 3),
                "char_start": self.char_start, "char_end": self.char_end}


@dataclass(slots=True)
class Lead:
    """Purchase intent found in a call (服转销): how strong, for what, and the turns that show it."""

    intent: str = "none"
    product: str = ""
    score: float = 0.0
    turns: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Contract shape: ``{"intent", "product", "score", "turns"}``."""
        return {"intent": self.intent, "product": self.product, "score": round(self.score, 3),
                "turns": self.turns}


@dataclass(slots=True)
class PiiSpan:
    """Personal data in a turn: its kind, character span in the turn's text and the masked form."""

    turn: int
    kind: str          # phone | id_card | bank_card | address | name
    char_start: int
    char_end: int
    text: str
    masked: str
    score: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON dict; ``text`` is the original words, for roles allowed to see them."""
        return {"turn": self.turn, "kind": self.kind, "char_start": self.char_start,
                "char_end": self.char_end, "text": self.text, "masked": self.masked,
                "score": round(self.score, 3)}


@dataclass(slots=True)
class Sentiment:
    """Sentiment in [-1, 1]: one score per turn and one per role."""

    per_turn: list[float] = field(default_factory=list)
    per_role: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Contract shape ``{"customer": x, "agent": y}`` plus ``turns`` with every turn's score."""
        out: dict[str, Any] = {role: round(v, 3) for role, v in self.per_role.items()}
        out["turns"] = [round(v, 3) for v in self.per_turn]
        return out
