"""PII recognizers for words rather than numbers: addresses and person names.

Both lean on the turn's jieba words (``TurnView.bounds``): an address component is the word(s) before a
suffix (城西|新村, 双龙|大道, 南京市), and a name is a surname word plus a one- or two-character given
name (陈|红梅, 刘建国), so that 显示沙港镇 yields 沙港镇 and 谢谢王先生 yields no name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callscope.types import PiiSpan
from nlp.pii.recognizers import CJK, CLAUSE, Context, NumberSyntax, Recognizer, TurnView, alternation
from nlp.text import segmenter

NUMERALS = frozenset("0123456789零〇一二三四五六七八九十百千两幺")
STANDS_ALONE = re.compile(r"$|[，,。？?！!、；;…\s]|本人")   # 我是刘建国，/ 我是刘建国本人 (not 我是江苏的)


class AddressRecognizer(Recognizer):
    """Chains of place components (南京市江宁区，双龙大道一五零九号) scored by how many they are."""

    type = "address"

    def __init__(self, *, name: str, suffixes: dict[str, float],
                 units: Sequence[tuple[re.Pattern[str], float]], places: Sequence[str],
                 place_score: float, stop_chars: str, open_after: str, connectors: re.Pattern[str],
                 max_connector_chars: int, negative_after: Sequence[str], numbers: NumberSyntax,
                 context: Context) -> None:
        super().__init__(name=name, kinds=("address",), numbers=numbers, context=context)
        self.suffix_score, self.suffix_re = suffixes, alternation(list(suffixes))
        self.units, self.place_score = tuple(units), place_score
        self.place_re = alternation(list(places)) if places else None
        self.stop, self.open_after = frozenset(stop_chars), frozenset(open_after)
        self.connectors, self.max_gap = connectors, max_connector_chars
        self.negative_after = alternation(list(negative_after)) if negative_after else None

    def _analyze(self, view: TurnView, previous: TurnView | None) -> list[PiiSpan]:
        out = []
        for start, end, miss in self._chains(view):
            near = view.text[end:end + self.context.after]
            if self.negative_after is not None and self.negative_after.search(near):
                continue
            score = self.context.score(view, start, end, 1.0 - miss, previous)
            out.append(self._span(view, "address", start, end, score))
        return out

    def _chains(self, view: TurnView) -> list[list]:
        """[start, end, chance that none is an address] of components joined by connectors."""
        chains: list[list] = []
        for start, end, score in sorted(self._components(view), key=lambda c: (c[0], -c[1])):
            last = chains[-1] if chains else None
            if last is not None and start >= last[0] and end <= last[1]:
                continue
            if last is not None and (start <= last[1] or self._joined(view.text, last[1], start)):
                last[1], last[2] = max(last[1], end), last[2] * (1.0 - score)
            else:
                chains.append([start, end, 1.0 - score])
        return chains

    def _joined(self, text: str, end: int, start: int) -> bool:
        return start - end <= self.max_gap and self.connectors.fullmatch(text, end, start) is not None

    def _components(self, view: TurnView) -> list[tuple[int, int, float]]:
        found = []
        for m in self.suffix_re.finditer(view.text):
            start = self._name_start(view, m.start(), m.end())
            if start is not None:
                found.append((start, m.end(), self.suffix_score[m.group(0)]))
        for pattern, score in self.units:
            found += [(m.start(), m.end(), score) for m in pattern.finditer(view.text)]
        if self.place_re is not None:
            found += [(m.start(), m.end(), self.place_score) for m in self.place_re.finditer(view.text)
                      if view.is_bound(m.start()) and view.is_bound(m.end())]
        return found

    def _name_start(self, view: TurnView, a: int, b: int) -> int | None:
        """Start of the place name before a suffix at [a, b): the jieba word(s) it ends, 2-4 characters."""
        if not view.is_bound(b) and view.text[b:b + 1] not in self.open_after:
            return None
        start = view.word_start(a)
        if start == a:
            start = view.word_start(a - 1) if a > 0 else a
        name = view.text[start:a]
        if (not 2 <= len(name) <= 4 or not CJK.fullmatch(name) or any(c in self.stop for c in name)
                or all(c in NUMERALS for c in name)):
            return None
        return start


class NameRecognizer(Recognizer):
    """Person names: after a cue (我叫, 户名), before a title (先生), or as the answer to 您的姓名.

    ``strict_self_cues`` (我是) count only when the name stands alone after them (我是刘建国，).
    """

    type = "name"

    def __init__(self, *, name: str, surnames: str, compound_surnames: Sequence[str],
                 cues: re.Pattern[str], self_cues: re.Pattern[str] | None,
                 strict_self_cues: re.Pattern[str] | None, surname_cues: re.Pattern[str] | None,
                 titles: re.Pattern[str],
                 asks: re.Pattern[str] | None, given_stop: str, deny: Sequence[str],
                 scores: dict[str, float], common_word: tuple[int, int], numbers: NumberSyntax) -> None:
        super().__init__(name=name, kinds=("name",), numbers=numbers)
        self.surnames, self.compound = frozenset(surnames), frozenset(compound_surnames)
        self.cues, self.self_cues, self.surname_cues = cues, self_cues, surname_cues
        self.strict_self_cues = strict_self_cues
        self.titles, self.asks = titles, asks
        self.given_stop, self.deny, self.scores = frozenset(given_stop), frozenset(deny), scores
        self.common_word = common_word   # jieba frequency above which a word is no name (any, 我是)

    def _analyze(self, view: TurnView, previous: TurnView | None) -> list[PiiSpan]:
        found: dict[tuple[int, int], float] = {}
        customer = view.role == "customer"
        cue_sets = [self.cues] + ([self.self_cues] if customer and self.self_cues else [])
        for cues in cue_sets:
            for m in cues.finditer(view.text):
                self._keep(found, self.name_at(view, m.end()), self.scores["cue"])
        for m in self.strict_self_cues.finditer(view.text) if customer and self.strict_self_cues else ():
            span = self.name_at(view, m.end())
            if (span is not None and STANDS_ALONE.match(view.text, span[1])
                    and _frequency(view.text[span[0]:span[1]]) <= self.common_word[1]):
                self._keep(found, span, self.scores["cue"])
        for m in self.titles.finditer(view.text):
            self._keep(found, self._name_before(view, m.start()), self.scores["title"])
        if customer and self._asked(view, previous):
            for m in list(CLAUSE.finditer(view.text))[:4]:
                span = self.name_at(view, m.start())
                if span is not None and span[1] == m.end():
                    self._keep(found, span, self.scores["answer"])
        return [self._span(view, "name", s, e, score) for (s, e), score in sorted(found.items())]

    @staticmethod
    def _keep(found: dict[tuple[int, int], float], span: tuple[int, int] | None, score: float) -> None:
        if span is not None:
            found[span] = max(score, found.get(span, 0.0))

    def _asked(self, view: TurnView, previous: TurnView | None) -> bool:
        """The other party just asked for the name, or the customer said their surname (姓严，严志国)."""
        if self.surname_cues is not None and self.surname_cues.search(view.text):
            return True
        return (previous is not None and previous.role != view.role and self.asks is not None
                and self.asks.search(previous.text) is not None)

    def surname_length(self, text: str) -> int:
        """Length of the surname ``text`` starts with: 2 for 欧阳, 1 for 刘, 0 if none."""
        if text[:2] in self.compound:
            return 2
        return 1 if text[:1] in self.surnames else 0

    def name_at(self, view: TurnView, p: int) -> tuple[int, int] | None:
        """The name starting at ``p``: a surname word plus a 1-2 character word, or one word (刘建国)."""
        sur = self.surname_length(view.text[p:p + 2])
        if not sur or not view.is_bound(p):
            return None
        k = view.bounds.index(p)
        ends = view.bounds[k + 1:k + 3]
        if ends and sur < ends[0] - p <= sur + 2:
            end = ends[0]
        elif len(ends) == 2 and ends[0] - p == sur and 1 <= ends[1] - ends[0] <= 2:
            end = ends[1]
        else:
            return None
        name = view.text[p:end]
        if (not CJK.fullmatch(name) or name in self.deny or self.titles.search(name)
                or _frequency(name) > self.common_word[0]
                or any(c in self.given_stop for c in name[sur:])):
            return None
        return p, end

    def _name_before(self, view: TurnView, t: int) -> tuple[int, int] | None:
        """The full name that ends where a title begins (林晓雯|女士); None for a surname alone."""
        for start in (t - 4, t - 3, t - 2):
            span = self.name_at(view, start) if start >= 0 else None
            if span is not None and span[1] == t:
                return span
        return None


def _frequency(word: str) -> int:
    """How common a word is in jieba's dictionary (高兴 5387, 马超 170, 刘建国 3)."""
    return segmenter().FREQ.get(word) or 0
