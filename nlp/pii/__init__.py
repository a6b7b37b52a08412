"""Personal data in calls: find phone, id, bank-card, address and name spans, and mask them.

Recognizers (``nlp.pii.recognizers``, ``nlp.pii.words``) are built by ``nlp.pii.loader`` from
``patterns/pii.yaml``, the customer's data, and run over every turn; spans below the file's threshold are dropped, a number
tail or name said again later in the call is caught too (三一七七那张), and overlapping spans keep
the higher score, as Presidio's analyzer does. Spans are character offsets into ``TurnText.text``,
which keeps spoken numerals (幺三八...) as said. Masking follows Presidio's anonymizer: one operator
per kind (mask, replace, surname, hash), each with ``validate(params)`` and ``operate(text, params)``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import yaml

from callscope.types import PiiSpan
from nlp.pii.loader import KINDS, Section, build_recognizers, read_section
from nlp.pii.recognizers import NumberSyntax, Recognizer, TurnView
from nlp.text import CallText

DEFAULT_PATTERNS = Path(__file__).resolve().parent.parent / "patterns" / "pii.yaml"
NUMBER_KINDS = ("phone", "id_card", "bank_card")


class Operator:
    """A masking operator (Presidio anonymizer style): checks its params, then rewrites a span."""

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, type]] = {}

    def validate(self, params: dict[str, Any]) -> None:
        """Raise ValueError for unknown or mistyped params."""
        for key, value in params.items():
            want = self.params.get(key)
            if want is None:
                raise ValueError(f"unknown parameter {key!r} for operator {self.name!r}")
            if not isinstance(value, want) or isinstance(value, bool):
                raise ValueError(
                    f"parameter {key!r} of operator {self.name!r} must be {want.__name__}")

    def operate(self, text: str, params: dict[str, Any]) -> str:
        raise NotImplementedError


class MaskOperator(Operator):
    """Hide letters and digits but the first/last few (138****5678); separators stay."""

    name = "mask"
    params: ClassVar[dict[str, type]] = {"keep_first": int, "keep_last": int, "min_hidden": int,
                                         "char": str, "skip": str}

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """Masked text; everything is hidden when fewer than ``min_hidden`` would be."""
        skip = params.get("skip", "")
        places = [i for i, c in enumerate(text) if c.isalnum() and c not in skip]
        first, last = params.get("keep_first", 0), params.get("keep_last", 0)
        hidden = places[first:len(places) - last] if len(places) > first + last else []
        if len(hidden) < params.get("min_hidden", 1):
            hidden = places
        chars = list(text)
        for i in hidden:
            chars[i] = params.get("char", "*")
        return "".join(chars)


class ReplaceOperator(Operator):
    """Replace the whole span with a fixed text ([地址])."""

    name, params = "replace", {"value": str}

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """The configured value."""
        return params.get("value", "<PII>")


class SurnameOperator(Operator):
    """Keep the surname, hide the given name (刘建国 -> 刘**, 欧阳娜娜 -> 欧阳**)."""

    name, params = "surname", {"char": str, "compound": list}

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """Surname (one character, or two for a compound surname) plus one mask char per other."""
        keep = 2 if text[:2] in params.get("compound", ()) else 1
        return text[:keep] + params.get("char", "*") * (len(text) - keep)


class HashOperator(Operator):
    """A stable pseudonym: ``value`` + the first 8 hex digits of the span's SHA-256."""

    name, params = "hash", {"value": str}

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """Prefix plus a short hash of the span text."""
        return params.get("value", "") + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


OPERATORS: dict[str, Operator] = {op.name: op for op in
                                  (MaskOperator(), ReplaceOperator(), SurnameOperator(), HashOperator())}


@dataclass(frozen=True, slots=True)
class PiiPatterns:
    """A loaded pattern file: recognizers, the score threshold and one masking operator per kind."""

    source: str
    threshold: float
    echo_score: float
    numbers: NumberSyntax
    recognizers: tuple[Recognizer, ...]
    operators: dict[str, tuple[Operator, dict[str, Any]]]

    def mask(self, kind: str, text: str) -> str:
        """The masked form of one span of the given kind."""
        operator, params = self.operators[kind]
        return operator.operate(text, params)


def load_pii_patterns(path: str | Path | None = None) -> PiiPatterns:
    """Read and check a PII pattern file; a ValueError names the file and the entry at fault."""
    return _load(str(Path(path).resolve()) if path is not None else str(DEFAULT_PATTERNS))


@lru_cache(maxsize=8)
def _load(source: str) -> PiiPatterns:
    try:
        raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{source}: cannot read PII patterns ({type(exc).__name__}: {exc})") from None
    top = read_section(source, "file", raw, {"threshold", "context_window", "context_boost",
                                             "echo_score", "numbers", "recognizers", "operators"})
    numbers, recognizers = build_recognizers(top)
    return PiiPatterns(source, top.score("threshold", 0.5), top.score("echo_score", 0.7), numbers,
                       recognizers, _operators(top, recognizers, numbers.fillers))


def _operators(top: Section, recognizers: tuple[Recognizer, ...], fillers: str,
               ) -> dict[str, tuple[Operator, dict]]:
    """One checked (operator, params) per kind; surname learns the compound surnames, mask the fillers."""
    raw = top.get("operators", dict)
    missing = [k for k in KINDS if k not in raw]
    if missing:
        raise top.error(f"operators: no operator for kind(s) {', '.join(missing)}")
    out = {}
    for kind, spec in raw.items():
        entry = top.child(f"operators.{kind}", spec, None)
        entry.kind(kind)
        params = dict(spec)
        name = params.pop("type", None)
        if name not in OPERATORS:
            raise entry.error(f"unknown operator type {name!r}; available: {', '.join(OPERATORS)}")
        try:
            OPERATORS[name].validate(params)
        except ValueError as exc:
            raise entry.error(str(exc)) from None
        if name == "surname" and "compound" not in params:
            params["compound"] = sorted({c for r in recognizers for c in getattr(r, "compound", ())})
        if name == "mask" and "skip" not in params:
            params["skip"] = fillers
        out[kind] = (OPERATORS[name], params)
    return out


def find_pii(call: CallText, *, patterns: str | Path | None = None) -> list[PiiSpan]:
    """Every PII span in a call, masked, in turn and character order."""
    config = load_pii_patterns(patterns)
    views = [TurnView.of(turn, config.numbers) for turn in call.turns]
    spans: list[PiiSpan] = []
    for k, view in enumerate(views):
        previous = views[k - 1] if k else None
        for recognizer in config.recognizers:
            spans += recognizer.analyze(view, previous=previous)
    spans = [s for s in spans if s.score >= config.threshold]
    kept = _without_conflicts(spans + _echoes(views, spans, config))
    for span in kept:
        span.masked = config.mask(span.kind, span.text)
    return sorted(kept, key=lambda s: (s.turn, s.char_start))


def _echoes(views: list[TurnView], spans: list[PiiSpan], config: PiiPatterns) -> list[PiiSpan]:
    """Numbers (4+ digits) and names found once, said again elsewhere in the call."""
    seen = {(s.turn, s.char_start, s.char_end) for s in spans}
    digits = {_digits(s.text, config.numbers): s for s in spans if s.kind in NUMBER_KINDS}
    names = {s.text: s for s in spans if s.kind == "name"}
    name_re = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True)))) if names else None
    found = []
    for view in views:
        for run in view.runs:
            source = digits.get(run.digits) if len(run.digits) >= 4 else None
            if source and not run.boxed and not view.unit_after(run.end):
                found.append((view, run.start, run.end, source))
        for m in name_re.finditer(view.text) if name_re else ():
            if view.is_bound(m.start()) and view.is_bound(m.end()):
                found.append((view, m.start(), m.end(), names[m.group(0)]))
    return [PiiSpan(view.index, source.kind, start, end, view.text[start:end], "",
                    min(config.echo_score, source.score))
            for view, start, end, source in found if (view.index, start, end) not in seen]


def _digits(text: str, numbers: NumberSyntax) -> str:
    return "".join(c for c in text.translate(numbers.table).upper() if c in "0123456789X")


def _without_conflicts(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Overlapping spans in a turn keep the higher score, then the longer span (Presidio)."""
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (-s.score, s.char_start - s.char_end, s.turn, s.char_start)):
        if not any(k.turn == span.turn and k.char_start < span.char_end and span.char_start < k.char_end
                   for k in kept):
            kept.append(span)
    return kept


def mask_text(text: str, spans: list[PiiSpan]) -> str:
    """``text`` with every span replaced by its masked form; overlapping spans are merged."""
    for s in spans:
        if not (0 <= s.char_start < s.char_end <= len(text)) or text[s.char_start:s.char_end] != s.text:
            raise ValueError(f"span {s.kind} [{s.char_start}:{s.char_end}] {s.text!r} (turn {s.turn}) "
                             f"is not in this text")
    out, pos = [], 0
    for start, end, group in _groups(spans):
        out += [text[pos:start], _group_mask(text, start, end, group)]
        pos = end
    return "".join(out) + text[pos:]


def _groups(spans: list[PiiSpan]) -> list[tuple[int, int, list[PiiSpan]]]:
    groups: list[tuple[int, int, list[PiiSpan]]] = []
    for s in sorted(spans, key=lambda s: (s.char_start, -s.char_end)):
        if groups and s.char_start < groups[-1][1]:
            start, end, members = groups[-1]
            groups[-1] = (start, max(end, s.char_end), members + [s])
        else:
            groups.append((s.char_start, s.char_end, [s]))
    return groups


def _group_mask(text: str, start: int, end: int, group: list[PiiSpan]) -> str:
    """One masked text for merged spans: a replacing span wins, else every hidden character stays hidden."""
    masked = {id(s): s.masked or load_pii_patterns().mask(s.kind, s.text) for s in group}
    replacing = [s for s in group if len(masked[id(s)]) != len(s.text)]
    if replacing:
        return masked[id(max(replacing, key=lambda s: s.score))]
    chars = list(text[start:end])
    for s in group:
        for i, (was, now) in enumerate(zip(s.text, masked[id(s)], strict=True)):
            if was != now:
                chars[s.char_start - start + i] = now
    return "".join(chars)
