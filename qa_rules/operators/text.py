"""Text operators: keywords (with synonyms), regex with an exclusion, fuzzy phrases (ASR slips).

Matching runs on the normalised turn text (simplified, half-width), so keywords are
normalised the same way when the rule book loads. An *exclusion* drops a hit it overlaps:
keyword ``保本`` with exclude ``不保本`` ignores "不保本" but still finds "保本保收益".
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field, field_validator, model_validator
from rapidfuzz import fuzz

from nlp.taxonomy import Taxonomy
from nlp.text import TurnText, normalise, sound_find
from qa_rules.evidence import Evidence
from qa_rules.operators.base import Operator, TurnParams, compiled, operators, regex_problem
from qa_rules.view import CallView


def _normalised(words: list[str]) -> list[str]:
    return [normalise(w) for w in words if w]


def _overlapped(span: tuple[int, int], excluded: list[tuple[int, int]]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in excluded)


def _spans(text: str, phrases: list[str]) -> list[tuple[int, int]]:
    out = []
    for phrase in phrases:
        at = text.find(phrase)
        while at >= 0:
            out.append((at, at + len(phrase)))
            at = text.find(phrase, at + 1)
    return out


def _first(text: str, phrases: list[str], excluded: list[tuple[int, int]]) -> tuple[int, int] | None:
    for span in sorted(_spans(text, phrases)):
        if not _overlapped(span, excluded):
            return span
    return None


def _counted(hits: list[Evidence], min_count: int) -> list[Evidence]:
    return hits if len({h.turn for h in hits}) >= min_count else []


class KeywordParams(TurnParams):
    """Exactly one of any / all / none; ``synonyms`` maps a keyword to words that count as it."""

    any: list[str] | None = None
    all: list[str] | None = None
    none: list[str] | None = None
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    by_sound: bool = Field(False, description="keywords of 3+ Chinese characters also match by their "
                                              "pinyin (ASR slips: 身份证后四位 heard as 核心分证后四为)")

    @model_validator(mode="after")
    def _one_mode(self) -> KeywordParams:
        modes = [m for m in ("any", "all", "none") if getattr(self, m) is not None]
        if len(modes) != 1:
            raise ValueError("give exactly one of any / all / none")
        if not getattr(self, modes[0]):
            raise ValueError(f"{modes[0]} needs at least one keyword")
        return self

    @field_validator("any", "all", "none", "exclude")
    @classmethod
    def _norm(cls, words: list[str] | None) -> list[str] | None:
        return None if words is None else _normalised(words)

    @property
    def mode(self) -> str:
        """``any``, ``all`` or ``none``."""
        return next(m for m in ("any", "all", "none") if getattr(self, m) is not None)

    def groups(self) -> list[list[str]]:
        """Each keyword with its synonyms (normalised)."""
        words: list[str] = getattr(self, self.mode)
        syn = {normalise(k): _normalised(v) for k, v in self.synonyms.items()}
        return [[w, *syn.get(w, [])] for w in words]


@operators.register("keyword", aliases=["kw"])
class KeywordOp(Operator):
    """Keywords in the turns of a role.

    ``any``: some keyword occurs; ``all``: every keyword occurs (in any of the turns);
    ``none``: no keyword occurs (evidence of the absence).

    ```yaml
    - id: taboo_words
      name: 服务禁语
      code: forbidden_phrase
      scope: {role: agent}
      when:
        keyword: {any: [不归我管, 你自己去查], synonyms: {不归我管: [不归我们管]}, exclude: [不会不归我管]}
    ```
    """

    Params = KeywordParams

    def grows(self, params: KeywordParams) -> bool:
        """``none`` can be undone by a later turn; ``any`` / ``all`` cannot."""
        return params.mode != "none"

    def evaluate(self, view: CallView, params: KeywordParams) -> list[Evidence]:
        """Hits per keyword group; for ``none`` one absence record when nothing is found."""
        role = params.role or "any"
        groups = params.groups()
        hits = list(self._hits(view.role_turns(role), groups, params.exclude, params.by_sound))
        if params.mode == "none":
            return [] if hits else [self.absence_evidence(view, role, f"keyword of {params.none}")]
        if params.mode == "all" and {g for g, _ in hits} != set(range(len(groups))):
            return []
        return _counted([e for _, e in hits], params.min_count)

    def _hits(self, turns: list[TurnText], groups: list[list[str]], exclude: list[str],
              by_sound: bool = False) -> Iterator[tuple[int, Evidence]]:
        for turn in turns:
            excluded = _spans(turn.text, exclude) if exclude else []
            for g, group in enumerate(groups):
                span = _first(turn.text, group, excluded)
                if span is None and by_sound:
                    span = next((found for word in group if len(word) >= 3
                                 for found in [sound_find(turn.text, word)] if found), None)
                if span:
                    yield g, self.turn_evidence(turn, span, f"`{turn.text[span[0]:span[1]]}`")


class RegexParams(TurnParams):
    """A pattern, an optional exclusion pattern, and whether to match spoken numbers as digits."""

    pattern: str
    exclude: str | None = None
    digits: bool = False


@operators.register("regex", aliases=["re"])
class RegexOp(Operator):
    """A regular expression over each turn; a hit overlapped by ``exclude`` does not count.

    ```yaml
    - id: guaranteed_return
      name: 违规承诺
      code: over_promise
      scope: {role: agent}
      when:
        regex: {pattern: "保本|稳赚|肯定(能|会)(赚|拿到)", exclude: "不保本|不能保证"}
    ```
    """

    Params = RegexParams

    def check(self, params: RegexParams, taxonomy: Taxonomy | None) -> list[str]:
        """E103 for a pattern or exclusion that does not compile."""
        return regex_problem(params.pattern) + regex_problem(params.exclude)

    def evaluate(self, view: CallView, params: RegexParams) -> list[Evidence]:
        """The first non-excluded match of each turn."""
        pattern, exclude = compiled(params.pattern), compiled(params.exclude) if params.exclude else None
        hits = []
        for turn in view.role_turns(params.role or "any"):
            text = turn.digits if params.digits else turn.text
            excluded = [m.span() for m in exclude.finditer(text)] if exclude else []
            for match in pattern.finditer(text):
                if match.end() > match.start() and not _overlapped(match.span(), excluded):
                    shown = params.pattern if len(params.pattern) <= 30 else params.pattern[:29] + "…"
                    hits.append(self.turn_evidence(turn, match.span(), f"/{shown}/ `{match.group()}`"))
                    break
        return _counted(hits, params.min_count)


class FuzzyParams(TurnParams):
    """Phrases and the rapidfuzz ``partial_ratio`` (0-100) a turn must reach."""

    phrases: list[str] = Field(min_length=1)
    threshold: float = Field(85.0, ge=50.0, le=100.0)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("phrases", "exclude")
    @classmethod
    def _norm(cls, words: list[str]) -> list[str]:
        return _normalised(words)


@operators.register("fuzzy")
class FuzzyOp(Operator):
    """A phrase said roughly (ASR slips, a word swapped): ``partial_ratio`` ≥ ``threshold``.

    ```yaml
    - id: no_recording_notice
      name: 未告知录音
      code: missing_disclosure
      scope: {role: agent}
      when:
        not: {fuzzy: {phrases: [本次通话将被录音], threshold: 80}}
    ```
    """

    Params = FuzzyParams

    def evaluate(self, view: CallView, params: FuzzyParams) -> list[Evidence]:
        """The best phrase of each turn that reaches the threshold."""
        hits = []
        for turn in view.role_turns(params.role or "any"):
            if any(x in turn.text for x in params.exclude):
                continue
            best = max((fuzz.partial_ratio_alignment(p, turn.text, score_cutoff=params.threshold)
                        for p in params.phrases), key=lambda a: a.score if a else -1.0)
            if best is not None and best.score >= params.threshold:
                hits.append(self.turn_evidence(turn, (best.dest_start, best.dest_end),
                                               f"~`{turn.text[best.dest_start:best.dest_end]}`",
                                               best.score / 100))
        return _counted(hits, params.min_count)
