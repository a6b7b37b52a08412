"""Sound-alike brand names: transcription slips such as 联同 / 连通 for 联通, 招航 for 招行, 平按 for 平安.

Registered as the spaCy function ``cc.fuzzy_alias.v1`` so that a pipeline config pins the
behaviour. Names are compared in toneless pinyin with the usual accent mergers (zh/z, ch/c, sh/s,
n/l, -ng/-n). A syllable heard for another is *close* when only its initial moves within a class that
telephone audio blurs (the stops b p d t g k; f/h; j q x; z c s) or only its coda changes (fa/fang,
hao/hang, da/dai: same medial and vowel); anything else is a different syllable. A name's generic
affixes (银行, 保险, 中国, given to ``index``) are not evidence, so 华细营航 is judged as 华细 vs 华夏.

Two uses, both left to the caller to frame (``nlp/competitors/finder.py``):

- ``__call__`` scans a doc for runs of characters as long as a name, not made of dictionary words
  only (jieba frequency above ``max_word_freq``: 电线 is a word; 联同 is not, and rare words are split
  into characters, since a garbled name often straddles jieba's guesses: 看品|多多), sharing at least
  ``min_shared_chars`` characters in place with a name that reads the same, or, for names of three
  or more distinctive syllables, differs in one close syllable (品多多, 听多多 for 拼多多);
- ``near`` judges any window (the finder's words next to a strong brand frame: 用的是张航的卡), against
  every name of its length, and reports how many close syllables it needed.

The score is rapidfuzz's ratio over the pinyin; it must reach ``min_ratio``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from spacy.tokens import Doc
from spacy.util import registry

_HAN = re.compile(r"[\u4e00-\u9fff]+")
_MERGED_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
_INITIALS = ("b", "p", "m", "f", "d", "t", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")
_CLOSE_INITIALS = ("bpdtgk", "fh", "jqx", "zcs")
_CODA = re.compile(r"(?<=[aeiouv])(n|i|o|u)$")
FuzzyHit = tuple[int, int, str, float]     # start char, end char, name, ratio
_Piece = tuple[str, int, bool]             # text, start char, is a whole dictionary word


@dataclass(frozen=True, slots=True)
class Near:
    """The name a window most likely stands for: ``close`` syllables differ (close ones),
    ``distinct`` is the name's syllable count without generic affixes."""

    name: str
    ratio: float
    close: int
    distinct: int


@registry.misc("cc.fuzzy_alias.v1")
def make_fuzzy_alias(min_ratio: float = 70.0, min_syllable_ratio: float = 0.0, max_word_freq: int = 100,
                     min_shared_chars: int = 1, max_len: int = 5) -> FuzzyAlias:
    """The sound-alike matcher with its thresholds (see the module docstring; ``min_syllable_ratio``
    is kept for old configs and ignored)."""
    del min_syllable_ratio
    return FuzzyAlias(min_ratio=min_ratio, max_word_freq=max_word_freq,
                      min_shared_chars=min_shared_chars, max_len=max_len)


class FuzzyAlias:
    """Matches garbled names against an index of the lexicon's Chinese names."""

    def __init__(self, *, min_ratio: float = 70.0, max_word_freq: int = 100, min_shared_chars: int = 1,
                 max_len: int = 5) -> None:
        self.min_ratio = min_ratio
        self.max_word_freq = max_word_freq
        self.min_shared_chars = min_shared_chars
        self.max_len = max_len
        self._by_char: dict[tuple[int, int, str], list[str]] = defaultdict(list)
        self._by_len: dict[int, list[str]] = defaultdict(list)
        self._said: dict[str, tuple[str, ...]] = {}
        self._generic: dict[str, tuple[bool, ...]] = {}
        self._memo: dict[str, Near | None] = {}
        self._memo_match: dict[str, tuple[str, float] | None] = {}

    def index(self, names: Iterable[str], *, generic: Iterable[str] = ()) -> None:
        """Remember every all-Chinese name of 2..max_len characters, by length and by character at
        each position (a slip replaces characters in place: 联同 for 联通, 品多多 for 拼多多), and
        which of its characters belong to a ``generic`` prefix or suffix (中国, 银行)."""
        affixes = tuple(generic)
        for name in names:
            if _HAN.fullmatch(name) and 2 <= len(name) <= self.max_len:
                self._by_len[len(name)].append(name)
                self._said[name] = _syllables(name)
                self._generic[name] = _generic_chars(name, affixes)
                for position, char in enumerate(name):
                    self._by_char[(len(name), position, char)].append(name)
        self._memo.clear()
        self._memo_match.clear()

    def __call__(self, doc: Doc, taken: set[int], word_freq: Callable[[str], int]) -> list[FuzzyHit]:
        """(start char, end char, name, ratio) for each sound-alike, left to right, not overlapping;
        tokens in ``taken`` (already matched) are left alone."""
        pieces = self._pieces(doc, taken, word_freq)
        hits: list[FuzzyHit] = []
        i = 0
        while i < len(pieces):
            hit = self._best_at(pieces, i)
            if hit is None:
                i += 1
            else:
                hits.append(hit[1])
                i = hit[0]
        return hits

    def _pieces(self, doc: Doc, taken: set[int], word_freq: Callable[[str], int]) -> list[_Piece | None]:
        """Tokens as pieces; rare words (not in the dictionary: 联同, 看品) split into characters,
        because a garbled name often straddles jieba's guesses; None stands for a matched token."""
        pieces: list[_Piece | None] = []
        for token in doc:
            text = token.text
            if token.i in taken or not _HAN.fullmatch(text):
                pieces.append(None)
            elif len(text) > 1 and word_freq(text) <= self.max_word_freq:
                pieces.extend((char, token.idx + k, False) for k, char in enumerate(text))
            else:
                pieces.append((text, token.idx, len(text) > 1))
        return pieces

    def _best_at(self, pieces: list[_Piece | None], i: int) -> tuple[int, FuzzyHit] | None:
        """The best sound-alike starting at piece ``i`` that is not made of dictionary words only,
        with the index of the piece after it."""
        best: tuple[int, FuzzyHit] | None = None
        text, only_words = "", True
        for j in range(i, len(pieces)):
            piece = pieces[j]
            if piece is None or len(text) + len(piece[0]) > self.max_len:
                break
            text += piece[0]
            only_words = only_words and piece[2]
            if len(text) < 2 or only_words:
                continue
            match = self.match(text)
            if match is not None and (best is None or match[1] > best[1][3]):
                start = pieces[i][1]  # type: ignore[index]
                best = (j + 1, (start, start + len(text), match[0], match[1]))
        return best

    def match(self, text: str) -> tuple[str, float] | None:
        """The name ``text`` most likely stands for, with its ratio, or None: a name sharing
        characters in place that reads the same, or differs in one close syllable of three or more."""
        if text not in self._memo_match:
            if len(self._memo_match) > 100_000:
                self._memo_match.clear()
            near = self._closest(text, self._candidates(text)) if 2 <= len(text) <= self.max_len else None
            ok = near is not None and (not near.close or near.distinct >= 3)
            self._memo_match[text] = (near.name, near.ratio) if ok else None  # type: ignore[union-attr]
        return self._memo_match[text]

    def near(self, text: str) -> Near | None:
        """The closest name of ``text``'s length, at most one close syllable away (none in a generic
        affix), or None; no characters need be shared (张航 for 招行)."""
        if text not in self._memo:
            if len(self._memo) > 100_000:
                self._memo.clear()
            names = self._by_len.get(len(text), ()) if 2 <= len(text) <= self.max_len else ()
            self._memo[text] = self._closest(text, names)
        return self._memo[text]

    def _closest(self, text: str, names: Iterable[str]) -> Near | None:
        """The best of ``names`` that ``text`` may stand for: fewest close syllables, then best ratio."""
        heard = tuple(_syllables(char)[0] for char in text)
        best: Near | None = None
        for name in names:
            if name == text:
                continue
            close = 0
            for a, b, generic in zip(heard, self._said[name], self._generic[name], strict=True):
                if a != b:
                    close += 1
                    if generic or close > 1 or not _close(a, b):
                        break
            else:
                ratio = fuzz.ratio(" ".join(heard), " ".join(self._said[name]))
                distinct = len(name) - sum(self._generic[name])
                if ratio >= self.min_ratio and (close == 0 or distinct >= 2) and (
                        best is None or (close, -ratio) < (best.close, -best.ratio)):
                    best = Near(name, ratio, close, distinct)
        return best

    def _candidates(self, text: str) -> set[str]:
        """Names of the same length with at least ``min_shared_chars`` characters in the same places."""
        if self.min_shared_chars <= 0:
            return set(self._by_len.get(len(text), ()))
        counts: dict[str, int] = defaultdict(int)
        for position, char in enumerate(text):
            for name in self._by_char.get((len(text), position, char), ()):
                counts[name] += 1
        return {name for name, n in counts.items() if n >= self.min_shared_chars}


def _generic_chars(name: str, affixes: tuple[str, ...]) -> tuple[bool, ...]:
    """Per character of ``name``: is it part of a generic prefix or suffix (中国 in 中国人寿)?"""
    flags = [False] * len(name)
    for affix in affixes:
        if len(affix) < len(name):
            if name.startswith(affix):
                flags[:len(affix)] = [True] * len(affix)
            if name.endswith(affix):
                flags[len(name) - len(affix):] = [True] * len(affix)
    return tuple(flags)


def _split(syllable: str) -> tuple[str, str]:
    """(initial, final) of a merged toneless syllable; the initial may be empty (an, er)."""
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial):]
    return "", syllable


@lru_cache(maxsize=8192)
def _close(a: str, b: str) -> bool:
    """Are two different syllables close: the initial moves within a class that telephone audio
    blurs (b p d t g k, f h, j q x, z c s) with the same final, or only the coda changes?"""
    (ia, fa), (ib, fb) = _split(a), _split(b)
    if fa == fb:
        return any(ia in group and ib in group for group in _CLOSE_INITIALS if ia and ib)
    return ia == ib and _CODA.sub("", fa) == _CODA.sub("", fb)


@lru_cache(maxsize=8192)
def _syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin per character with accent mergers (zh/z, ch/c, sh/s, n/l, -ng/-n)."""
    out = []
    for syllable in lazy_pinyin(text):
        for old, new in _MERGED_INITIALS:
            if syllable.startswith(old):
                syllable = new + syllable[len(old):]
                break
        for old, new in _FINALS:
            if syllable.endswith(old):
                syllable = syllable[: -len(old)] + new
                break
        out.append(syllable)
    return tuple(out)


def syllables(text: str) -> tuple[str, ...]:
    """Merged toneless pinyin of each character of ``text`` (one syllable per character)."""
    return tuple(_syllables(char)[0] if _HAN.fullmatch(char) else char for char in text)
