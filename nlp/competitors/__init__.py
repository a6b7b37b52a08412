"""Competitor mentions in a call: which rival brand was named, in which turn, and about what.

The spaCy pipe of ``nlp/competitors/finder.py`` proposes names per turn and drops look-alikes the
words give away (平安夜, 电信诈骗, 移动 as a verb, 工行卡 used to repay). This module adds what only
the whole call tells:

- the call's own company is never a competitor: it is read from the agent's greeting (first two
  agent turns), a service hotline the agent names, ``meta["own_brand"]``, and 你们/咱们 + brand;
- a brand competes only within the call's industry (``meta["industry"]``); a brand of another
  industry counts only when the speaker compares it with the call's company (比你们 ...);
- a bare name that means another brand in this industry is resolved (平安 in a bank call: 平安银行);
- the dimension (price | product | service | network) comes from cue words near the mention,
  weaker cues in the neighbouring turns, and the brand's previous mention in the call.

Lexicon, look-alikes and cue words are data: ``nlp/patterns/competitors.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from callscope.types import CompetitorMention
from nlp.competitors.finder import INSTRUMENTS_KEY, SPANS_KEY, competitor_nlp
from nlp.competitors.patterns import (
    DIMENSIONS,
    CompetitorPatternError,
    CompetitorPatterns,
    load_competitor_patterns,
)
from nlp.text import CallText

__all__ = ["CompetitorPatternError", "find_competitors", "load_competitor_patterns"]

GREETING_TURNS = 2
GREETING = re.compile(r"您好|你好|喂|这里是|这边是|我是|欢迎|客服|工号|很高兴")
GREETING_CHARS = 30
OWN_MARKER_GAP = 2
OWN_LEAD_CHARS = 8
COMPARED_FACTOR = 0.8
# a bank the customer pays with (房贷是建行的卡自动扣) is still that card when it is named again in the
# next turns (建行那张是他们行的卡; 您的工行卡里留够钱), unless the speaker compares it with the call's company
INSTRUMENT_ECHO_TURNS = 2
_BOUNDARY = re.compile(r"[。？！?!…]")
_NUMBER_RUN = re.compile(r"[0-9零〇一二三四五六七八九幺]{5,}")


@dataclass(slots=True)
class _Candidate:
    """A name the spaCy pipe found in one turn, before the call-level checks."""

    turn: int
    brand: str
    name: str
    text: str
    start: int
    end: int
    score: float
    before: str


def find_competitors(call: CallText, *, patterns: str | Path | None = None) -> list[CompetitorMention]:
    """Competitor mentions of a call, one per (turn, brand), in turn order."""
    lexicon = load_competitor_patterns(patterns)
    industry = call.meta.get("industry") if isinstance(call.meta.get("industry"), str) else None
    candidates, instruments = _candidates(call, lexicon, industry, patterns)
    own = _own_brands(call, candidates, lexicon, industry)
    stems = _centre_stems(call)
    cues = _CueCache(call, lexicon)
    previous: dict[str, str] = {}
    found: dict[tuple[int, str], CompetitorMention] = {}
    for cand in candidates:
        if (cand.brand in own or cand.before in lexicon.own_before or _paid_with(cand, instruments, call, lexicon)
                or _in_centre_name(cand, call, stems)):
            continue
        score = _competes(cand, call, lexicon, industry)
        if score == 0.0:
            continue
        dimension = _dimension(cand, cues, previous.get(cand.brand), lexicon)
        previous[cand.brand] = dimension
        key = (cand.turn, cand.brand)
        if key not in found or score > found[key].score:
            found[key] = CompetitorMention(turn=cand.turn, brand=cand.brand, mention=cand.text,
                                           dimension=dimension, score=score,
                                           char_start=cand.start, char_end=cand.end)
    return sorted(found.values(), key=lambda m: (m.turn, m.char_start))


def _centre_stems(call: CallText) -> tuple[str, ...]:
    """The distinctive part of the company names the agent greets with (福泰 of 福泰保险), which the
    competitor lexicon may not know (an invented or local company)."""
    return tuple(name[:-2] for name in call.centre_names() if len(name) >= 4)


def _in_centre_name(cand: _Candidate, call: CallText, stems: tuple[str, ...]) -> bool:
    """Is the name a piece of the centre's own name or of a product named after it (泰康 inside
    福泰康乐老年防癌险, said by an agent of 福泰保险)?"""
    text = call.turns[cand.turn].text
    return any(m.start() < cand.end and cand.start < m.end()
               for stem in stems for m in re.finditer(re.escape(stem), text))


def _own_brands(call: CallText, candidates: list[_Candidate], lexicon: CompetitorPatterns,
                industry: str | None) -> set[str]:
    """The call's own company: first named in the agent's greeting, named by the agent after an own
    marker (这里是, 感谢您对) or with a hotline, in ``meta["own_brand"]``, or as 你们/咱们 + brand
    (你们移动, 你们不都是移动吗); only brands of the call's industry count."""
    own: set[str] = set()
    meta_brand = call.meta.get("own_brand")
    if isinstance(meta_brand, str) and meta_brand in lexicon.names:
        own.add(lexicon.resolve(lexicon.names[meta_brand][0], industry))
    greeting = {t.index for t in call.role_turns("agent")[:GREETING_TURNS] if GREETING.search(t.text)}
    greeted: set[int] = set()
    for cand in candidates:
        if cand.turn in greeting and cand.turn not in greeted and cand.start < GREETING_CHARS:
            own.add(cand.brand)          # the first name in a greeting: 您好，中国移动
        greeted.add(cand.turn)
        lead = call.turns[cand.turn].text[max(0, cand.start - OWN_LEAD_CHARS):cand.start]
        if (cand.before in lexicon.own_before or any(rx.search(lead) for rx in lexicon.own_lead)
                or _own_marked(cand, call, lexicon)):
            own.add(cand.brand)
    for turn in call.role_turns("agent"):
        if _NUMBER_RUN.search(turn.text):
            digits = turn.digits
            own.update(lexicon.resolve(b.name, industry) for b in lexicon.brands.values()
                       if any(h in digits for h in b.hotlines))
    if industry is not None:
        own = {b for b in own if lexicon.brands[b].industry == industry}
    return own


def _own_marked(cand: _Candidate, call: CallText, lexicon: CompetitorPatterns) -> bool:
    """Does the agent name the brand as its own (这里是中国移动, 感谢您对中国移动的支持) or send the
    customer to its channels (中国移动APP, 移动营业厅)?"""
    turn = call.turns[cand.turn]
    if turn.role != "agent":
        return False
    before = turn.text[max(0, cand.start - OWN_MARKER_GAP - 5):cand.start]
    after = turn.text[cand.end:]
    return any(before.find(m) >= 0 and len(before) - before.rfind(m) - len(m) <= OWN_MARKER_GAP
               for m in lexicon.own_markers) or any(rx.search(after) for rx in lexicon.own_after)


def _candidates(call: CallText, lexicon: CompetitorPatterns, industry: str | None,
                patterns: str | Path | None) -> tuple[list[_Candidate], set[tuple[int, str]]]:
    """Every name the spaCy pipe kept, with ambiguous names resolved for the call's industry, and the
    (turn, brand) pairs it dropped as the customer's means of payment."""
    nlp = competitor_nlp(patterns)
    out: list[_Candidate] = []
    instruments: set[tuple[int, str]] = set()
    for turn, doc in zip(call.turns, nlp.pipe(t.text for t in call.turns), strict=True):
        for span in doc.spans[INSTRUMENTS_KEY]:
            instruments.add((turn.index, _resolved(span.label_, span.text, lexicon, industry)))
        group = doc.spans[SPANS_KEY]
        attrs = group.attrs
        rows = zip(group, attrs["scores"], attrs["names"], attrs["chars"], strict=True)
        for span, score, name, (a, b) in rows:
            brand = _resolved(span.label_, name, lexicon, industry)
            before = doc[span.start - 1].text if span.start > 0 else ""
            out.append(_Candidate(turn.index, brand, name, turn.text[a:b], a, b, score, before))
    return out, instruments


def _resolved(brand: str, name: str, lexicon: CompetitorPatterns, industry: str | None) -> str:
    """The brand a name stands for in this call's industry (bare 平安 in a bank call: 平安银行)."""
    return lexicon.resolve(brand, industry) if name in lexicon.brands[brand].ambiguous else brand


def _paid_with(cand: _Candidate, instruments: set[tuple[int, str]], call: CallText,
               lexicon: CompetitorPatterns) -> bool:
    """Is the name the customer's payment card named again (``INSTRUMENT_ECHO_TURNS``), not compared?"""
    echoed = any((cand.turn - k, cand.brand) in instruments for k in range(INSTRUMENT_ECHO_TURNS + 1))
    return echoed and not _compared_near(cand, call, lexicon)


def _competes(cand: _Candidate, call: CallText, lexicon: CompetitorPatterns, industry: str | None) -> float:
    """The mention's score if the brand competes in this call (0.0 if not): same industry, or
    another industry's brand that the speaker compares with the call's company."""
    if industry is None or lexicon.brands[cand.brand].industry == industry:
        return cand.score
    return cand.score * COMPARED_FACTOR if _compared_near(cand, call, lexicon) else 0.0


def _compared_near(cand: _Candidate, call: CallText, lexicon: CompetitorPatterns) -> bool:
    """Does the speaker compare the name with the call's company (比你们, 哪像你们) within
    ``compare_window`` characters of it?"""
    text = call.turns[cand.turn].text
    w = lexicon.compare_window
    window = text[max(0, cand.start - w): cand.end + w]
    return any(rx.search(window) for rx in lexicon.compare)


@dataclass(frozen=True, slots=True)
class _Cue:
    start: int
    end: int
    dimension: str
    weight: float


class _CueCache:
    """Dimension cues of each turn, found once per call."""

    def __init__(self, call: CallText, lexicon: CompetitorPatterns) -> None:
        self.call = call
        self.lexicon = lexicon
        self._cues: dict[int, list[_Cue]] = {}

    def __getitem__(self, index: int) -> list[_Cue]:
        if index not in self._cues:
            self._cues[index] = _find_cues(self.call.turns[index].text, self.lexicon)
        return self._cues[index]

    def __len__(self) -> int:
        return len(self.call.turns)


def _find_cues(text: str, lexicon: CompetitorPatterns) -> list[_Cue]:
    """Cue words and patterns in a text, longest first and not overlapping, minus ``ignore`` words."""
    found: list[_Cue] = []
    for group in lexicon.cues:
        for word in group.words:
            start = text.find(word)
            while start >= 0:
                found.append(_Cue(start, start + len(word), group.dimension, group.weight))
                start = text.find(word, start + 1)
        for rx in group.patterns:
            found.extend(_Cue(m.start(), m.end(), group.dimension, group.weight)
                         for m in rx.finditer(text) if m.end() > m.start())
    masked: set[int] = set()
    for word in lexicon.scoring.ignore:
        start = text.find(word)
        while start >= 0:
            masked.update(range(start, start + len(word)))
            start = text.find(word, start + 1)
    kept: list[_Cue] = []
    for cue in sorted(found, key=lambda c: (c.start - c.end, -c.weight, c.start)):
        span = set(range(cue.start, cue.end))
        if not span & masked:
            kept.append(cue)
            masked |= span
    return kept


def _dimension(cand: _Candidate, cues: _CueCache, carried: str | None, lexicon: CompetitorPatterns) -> str:
    """price | product | service | network: cues near the mention and the brand's previous mention,
    combined as a noisy-or; cues of the neighbouring turns only when the turn itself has none."""
    scoring = lexicon.scoring
    misses = {d: 1.0 for d in DIMENSIONS}
    text = cues.call.turns[cand.turn].text
    for cue in cues[cand.turn]:
        if cue.start < cand.end and cue.end > cand.start:
            continue
        gap = (cand.start, cue.end) if cue.end <= cand.start else (cand.end, cue.start)
        distance = abs(gap[1] - gap[0])
        weight = cue.weight / (1.0 + distance / scoring.decay_chars)
        if _BOUNDARY.search(text[min(gap):max(gap)]):
            weight *= scoring.boundary_penalty
        if cue.end <= cand.start:
            weight *= scoring.before_penalty
        misses[cue.dimension] *= 1.0 - min(weight, 0.99)
    heard_cue = any(m < 1.0 for m in misses.values())
    for index in () if heard_cue else (cand.turn - 1, cand.turn + 1):
        if 0 <= index < len(cues):
            for dim in DIMENSIONS:
                best = max((c.weight for c in cues[index] if c.dimension == dim), default=0.0)
                misses[dim] *= 1.0 - min(best * scoring.neighbour, 0.99)
    if carried is not None:
        misses[carried] *= 1.0 - scoring.carry
    best_dim = min(DIMENSIONS, key=lambda d: (misses[d], d != scoring.default))
    return best_dim if misses[best_dim] < 1.0 else scoring.default
