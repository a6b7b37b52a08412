"""PII recognizers in Presidio's shape: each one finds personal data of some kinds in one turn.

A recognizer has a ``name``, the ``kinds`` it reports and ``analyze(turn, previous=None)``, which
returns ``PiiSpan``s on the turn's normalised text (``masked`` is left empty: masking is the job of
the operators in ``nlp.pii``). Number recognizers have a ``validate_result`` hook (GB 11643 checksum,
Luhn, mobile prefix) with Presidio's True / False / None outcomes.

Numbers are found on a digit view of the turn: each spoken digit (幺, 零, 〇, 三...) is swapped for one
ASCII digit, so offsets never move, and a run of digit groups (一三六，二一四七，八八九零) is read through
an offset map. Names and addresses use the turn's jieba words to decide where a name starts and ends.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from callscope.types import PiiSpan
from nlp.text import TurnText, words

CJK = re.compile(r"[\u4e00-\u9fff]+")
CLAUSE = re.compile(r"[^，,。？?！!、；;：:\s…]+")
SENTENCE_END = re.compile(r"[。？?！!；;]")
Validator = Callable[[str], "bool | None"]


@dataclass(frozen=True, slots=True)
class NumberSyntax:
    """How numbers are said: digit characters, what may sit between groups, units after amounts."""

    chars: str              # every character that is a digit, written or spoken
    table: dict[int, str]   # str.translate table: each of them -> its ASCII digit
    run: re.Pattern[str]
    units: frozenset[str]
    fillers: str            # characters said between digit groups that are not digits (嗯, 杠)

    @classmethod
    def build(cls, *, digits: dict[str, str], separators: str, fillers: Sequence[str],
              max_gap: int, units: str) -> NumberSyntax:
        """Compile the digit table and the digit-run pattern once."""
        gaps = ([f"[{re.escape(separators)}]"] if separators else []) + [re.escape(f) for f in fillers]
        gap = f"(?:{'|'.join(gaps)}){{0,{max_gap}}}" if gaps else ""
        return cls("".join(digits), str.maketrans(digits), re.compile(rf"[0-9](?:{gap}[0-9])*[Xx]?"),
                   frozenset(units), "".join(fillers))


@dataclass(frozen=True, slots=True)
class NumberRun:
    """Digit groups said together: their digits and where each digit sits in the turn's text."""

    start: int
    end: int
    digits: str
    offsets: tuple[int, ...]
    cuts: tuple[int, ...]   # digit indices where a group begins, then len(digits)
    boxed: bool             # touches a Latin letter (T2026..., 5G): an identifier, not a number


@dataclass(slots=True)
class TurnView:
    """A turn as the recognizers read it: text, digit runs and jieba word boundaries."""

    index: int
    role: str
    text: str
    runs: tuple[NumberRun, ...]
    bounds: tuple[int, ...]
    units: frozenset[str]

    @classmethod
    def of(cls, turn: TurnText, numbers: NumberSyntax) -> TurnView:
        """Digit runs of three or more digits and word boundaries (jieba run here if words are missing)."""
        view = turn.text.translate(numbers.table)
        runs = tuple(r for m in numbers.run.finditer(view) if m.end() - m.start() >= 3
                     for r in [_number_run(view, m)] if len(r.digits) >= 3)
        parts = turn.words if "".join(turn.words) == turn.text else words(turn.text)
        bounds = [0]
        for word in parts:
            bounds.append(bounds[-1] + len(word))
        return cls(turn.index, turn.role, turn.text, runs, tuple(bounds), numbers.units)

    def unit_after(self, end: int) -> bool:
        """Whether the character at ``end`` makes the number before it an amount or a date."""
        return self.text[end:end + 1] in self.units if end < len(self.text) else False

    def word_start(self, i: int) -> int:
        """Start of the jieba word that holds character ``i``."""
        return self.bounds[bisect_right(self.bounds, i) - 1]

    def is_bound(self, i: int) -> bool:
        """Whether a word starts or ends at ``i``."""
        k = bisect_right(self.bounds, i) - 1
        return k >= 0 and self.bounds[k] == i


def _number_run(view: str, match: re.Match[str]) -> NumberRun:
    digits: list[str] = []
    offsets: list[int] = []
    cuts = [0]
    for i in range(match.start(), match.end()):
        if view[i] in "0123456789Xx":
            if offsets and i != offsets[-1] + 1:
                cuts.append(len(digits))
            digits.append(view[i].upper())
            offsets.append(i)
    cuts.append(len(digits))
    boxed = any(0 <= j < len(view) and view[j].isascii() and view[j].isalpha()
                for j in (match.start() - 1, match.end()))
    return NumberRun(offsets[0], offsets[-1] + 1, "".join(digits), tuple(offsets), tuple(cuts), boxed)


@dataclass(frozen=True, slots=True)
class Context:
    """Presidio-style context: words near a span (or in the turn before) raise its score."""

    words: re.Pattern[str] | None = None
    negative: re.Pattern[str] | None = None
    boost: float = 0.35
    before: int = 12
    after: int = 6

    def score(self, view: TurnView, start: int, end: int, base: float,
              previous: TurnView | None) -> float:
        """``base`` plus the boost when a context word is near; 0 when a negative word is near."""
        lo, hi = max(0, start - self.before), min(len(view.text), end + self.after)
        if self.negative is not None and self.negative.search(view.text, lo, hi):
            return 0.0
        if self.words is None:
            return base
        near = self.words.search(view.text, lo, start) or self.words.search(view.text, end, hi)
        if near or (previous is not None and self.words.search(previous.text)):
            return min(1.0, base + self.boost)
        return base


def alternation(items: Sequence[str]) -> re.Pattern[str]:
    """One regex matching any of the plain strings, longest first."""
    return re.compile("|".join(re.escape(s) for s in sorted(items, key=len, reverse=True)))


class Recognizer:
    """Base class: a named finder of some kinds of PII in one turn (Presidio's EntityRecognizer)."""

    type: ClassVar[str] = ""

    def __init__(self, *, name: str, kinds: tuple[str, ...], numbers: NumberSyntax,
                 context: Context | None = None) -> None:
        self.name, self.kinds, self.numbers = name, kinds, numbers
        self.context = context or Context()

    def analyze(self, turn: TurnText | TurnView, *,
                previous: TurnText | TurnView | None = None) -> list[PiiSpan]:
        """PII spans in one turn; ``previous`` is the turn before it (a question gives context)."""
        prev = self.view(previous) if previous is not None else None
        return self._analyze(self.view(turn), prev)

    def view(self, turn: TurnText | TurnView) -> TurnView:
        """The turn as recognizers read it (built once per turn by ``find_pii``)."""
        return turn if isinstance(turn, TurnView) else TurnView.of(turn, self.numbers)

    def validate_result(self, digits: str) -> bool | None:
        """Checksum-style check of a candidate: True raises its score, False drops it."""
        return None

    def _analyze(self, view: TurnView, previous: TurnView | None) -> list[PiiSpan]:
        raise NotImplementedError

    @staticmethod
    def _span(view: TurnView, kind: str, start: int, end: int, score: float) -> PiiSpan:
        return PiiSpan(view.index, kind, start, end, view.text[start:end], "", score)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kinds={self.kinds})"


class NumberRecognizer(Recognizer):
    """Whole numbers (phones, ids, cards) matched by regexes on their ASCII digits."""

    type = "number"

    def __init__(self, *, name: str, kind: str, patterns: Sequence[tuple[str, re.Pattern[str], float]],
                 numbers: NumberSyntax, validator: Validator | None = None,
                 validated_score: float | None = None, invalid_score: float | None = None,
                 context: Context | None = None) -> None:
        super().__init__(name=name, kinds=(kind,), numbers=numbers, context=context)
        self.kind, self.patterns = kind, tuple(patterns)
        self.validator, self.validated_score = validator, validated_score
        self.invalid_score = invalid_score   # None: a failed check drops the candidate (Presidio)

    def validate_result(self, digits: str) -> bool | None:
        """The configured check (gb11643, luhn, ...), or no verdict."""
        return self.validator(digits) if self.validator is not None else None

    def _analyze(self, view: TurnView, previous: TurnView | None) -> list[PiiSpan]:
        out = []
        for run in view.runs:
            if run.boxed:
                continue
            for i, j, base in self._matches(run):
                start, end = run.offsets[i], run.offsets[j - 1] + 1
                verdict = self.validate_result(run.digits[i:j])
                if view.unit_after(end) or (verdict is False and self.invalid_score is None):
                    continue
                if verdict is False:
                    base = min(base, self.invalid_score)
                elif verdict and self.validated_score is not None:
                    base = max(base, self.validated_score)
                score = self.context.score(view, start, end, base, previous)
                if score > 0:
                    out.append(self._span(view, self.kind, start, end, score))
        return out

    def _matches(self, run: NumberRun):
        """(first digit, end digit, score) of the longest match from each group start; groups stay whole."""
        done = 0
        for a in run.cuts[:-1]:
            if a < done:
                continue
            for b in reversed(run.cuts):
                if b <= a:
                    break
                score = next((s for _, p, s in self.patterns if p.fullmatch(run.digits, a, b)), None)
                if score is not None:
                    yield a, b, score
                    done = b
                    break


class TailRecognizer(Recognizer):
    """Last digits of an id, card or phone: after a cue (尾号, 后四位是), or as the answer to one."""

    type = "tail"
    KIND_WINDOW: ClassVar[int] = 8   # characters before a cue searched for its kind (身份证后六位)
    LIST_JOIN: ClassVar[re.Pattern[str]] = re.compile(r"(?:[和跟与或、,，]|还有)?")

    def __init__(self, *, name: str, cues: re.Pattern[str], kind_words: dict[str, str],
                 default_kind: str, max_gap: int, score: float, answer_score: float,
                 numbers: NumberSyntax) -> None:
        super().__init__(name=name, kinds=tuple(dict.fromkeys(kind_words.values())), numbers=numbers)
        self.cues, self.kind_of, self.default_kind = cues, kind_words, default_kind
        self.kind_re = alternation(list(kind_words))
        self.kind_after = re.compile(f"的?(?:{self.kind_re.pattern})")
        self.max_gap, self.score, self.answer_score = max_gap, score, answer_score

    def _analyze(self, view: TurnView, previous: TurnView | None) -> list[PiiSpan]:
        out: list[PiiSpan] = []
        for cue in self.cues.finditer(view.text):
            span = self._after_cue(view, cue, previous)
            if span is not None and out and self.LIST_JOIN.fullmatch(view.text, out[-1].char_end,
                                                                      cue.start()):
                span.kind = out[-1].kind      # 尾号三一七七和尾号九零零二: both cards
            if span is not None:
                out.append(span)
        if not out and previous is not None and previous.role != view.role:
            out = self._answer(view, previous)
        return out

    def _after_cue(self, view: TurnView, cue: re.Match[str], previous: TurnView | None,
                   ) -> PiiSpan | None:
        run = next((r for r in view.runs if r.start >= cue.end()), None)
        if (run is None or run.start - cue.end() > self.max_gap
                or SENTENCE_END.search(view.text, cue.end(), run.start)
                or not self._fits(run, cue, view)):
            return None
        return self._span(view, self._kind(view, cue.start(), run.end, previous), run.start, run.end,
                          self.score)

    def _answer(self, view: TurnView, previous: TurnView) -> list[PiiSpan]:
        """The first number of a turn that answers a question for the last digits."""
        asked = list(self.cues.finditer(previous.text))
        if not asked or not view.runs or self._after_cue(previous, asked[-1], None) is not None:
            return []
        run = view.runs[0]
        if SENTENCE_END.search(view.text, 0, run.start) or not self._fits(run, asked[-1], view):
            return []
        kind = self._kind(previous, asked[-1].start(), asked[-1].end(), None)
        return [self._span(view, kind, run.start, run.end, self.answer_score)]

    def _fits(self, run: NumberRun, cue: re.Match[str], view: TurnView) -> bool:
        """Right length (the cue's 四 in 后四位, else 3-6 digits), not an amount, not an identifier."""
        said = (cue.groupdict().get("n") or "").translate(self.numbers.table)
        ok = len(run.digits) == int(said) if said.isdigit() else 3 <= len(run.digits) <= 6
        return ok and not run.boxed and not view.unit_after(run.end)

    def _kind(self, view: TurnView, cue_start: int, end: int, previous: TurnView | None) -> str:
        """Kind from the nearest kind word: right after the digits, just before the cue (same
        sentence), else before the cue of the turn before (the question), else the default."""
        after = self.kind_after.match(view.text, end)
        if after:
            return self.kind_of[after.group(0).removeprefix("的")]
        lo = max(0, cue_start - self.KIND_WINDOW)
        ends = list(SENTENCE_END.finditer(view.text, lo, cue_start))
        before = list(self.kind_re.finditer(view.text, ends[-1].end() if ends else lo, cue_start))
        if not before and previous is not None:
            asked = list(self.cues.finditer(previous.text))
            before = list(self.kind_re.finditer(previous.text, 0, asked[-1].start() if asked else
                                                len(previous.text)))
        return self.kind_of[before[-1].group(0)] if before else self.default_kind
