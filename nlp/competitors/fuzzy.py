"""Sound-alike brand names: transcription slips such as 联同 / 连通 for 联通, 招航 for 招行, 平按 for 平安.

Registered as the spaCy function ``cc.fuzzy_alias.v1`` so that a pipeline config pins the
behaviour. A candidate is a run of characters as long as a name, not made of dictionary words only
(jieba frequency above ``max_word_freq``: 电线 is a word; 联同 is not, and rare words are split into
characters, since a garbled name often straddles jieba's guesses: 看品|多多 for 看 品多多), that
shares at least ``min_shared_chars`` characters with the name in the same places, and reads the same
in toneless pinyin with the usual accent mergers (zh/z, ch/c, sh/s, n/l, -ng/-n). Names of three or
more characters may differ in one syllable if it sounds close (rapidfuzz ratio at least
``min_syllable_ratio``: da/dai yes, mai/dai and zuo/wo no); rapidfuzz's ratio over the pinyin is the score.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from spacy.tokens import Doc
from spacy.util import registry

_HAN = re.compile(r"[\u4e00-\u9fff]+")
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
FuzzyHit = tuple[int, int, str, float]     # start char, end char, name, ratio
_Piece = tuple[str, int, bool]             # text, start char, is a whole dictionary word


@registry.misc("cc.fuzzy_alias.v1")
def make_fuzzy_alias(min_ratio: float = 85.0, min_syllable_ratio: float = 75.0, max_word_freq: int = 100,
                     min_shared_chars: int = 1, max_len: int = 5) -> FuzzyAlias:
    """The sound-alike matcher with its thresholds (see the module docstring)."""
    return FuzzyAlias(min_ratio=min_ratio, min_syllable_ratio=min_syllable_ratio, max_word_freq=max_word_freq,
                      min_shared_chars=min_shared_chars, max_len=max_len)


class FuzzyAlias:
    """Matches garbled names against an index of the lexicon's Chinese names."""

    def __init__(self, *, min_ratio: float = 85.0, min_syllable_ratio: float = 75.0, max_word_freq: int = 100,
                 min_shared_chars: int = 1, max_len: int = 5) -> None:
        self.min_ratio = min_ratio
        self.min_syllable_ratio = min_syllable_ratio
        self.max_word_freq = max_word_freq
        self.min_shared_chars = min_shared_chars
        self.max_len = max_len
        self._by_char: dict[tuple[int, int, str], list[str]] = defaultdict(list)
        self._by_len: dict[int, list[str]] = defaultdict(list)
        self._said: dict[str, tuple[str, ...]] = {}
        self._memo: dict[str, tuple[str, float] | None] = {}

    def index(self, names: Iterable[str]) -> None:
        """Remember every all-Chinese name of 2..max_len characters, by length and by character
        at each position (a slip replaces characters in place: 联同 for 联通, 品多多 for 拼多多)."""
        for name in names:
            if _HAN.fullmatch(name) and 2 <= len(name) <= self.max_len:
                self._by_len[len(name)].append(name)
                self._said[name] = _syllables(name)
                for position, char in enumerate(name):
                    self._by_char[(len(name), position, char)].append(name)

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
        """The name ``text`` most likely stands for, with its ratio, or None."""
        if text not in self._memo:
            if len(self._memo) > 100_000:
                self._memo.clear()
            self._memo[text] = self._match(text) if len(text) >= 2 else None
        return self._memo[text]

    def _match(self, text: str) -> tuple[str, float] | None:
        """``match`` without the memo."""
        candidates = self._candidates(text)
        if not candidates:
            return None
        heard = tuple(_syllables(char)[0] for char in text)
        best: tuple[str, float] | None = None
        for name in candidates:
            said = self._said[name]
            if name != text and self._sounds_alike(heard, said):
                ratio = fuzz.ratio(" ".join(heard), " ".join(said))
                if ratio >= self.min_ratio and (best is None or ratio > best[1]):
                    best = (name, ratio)
        return best

    def _sounds_alike(self, heard: tuple[str, ...], said: tuple[str, ...]) -> bool:
        """Same syllables, except one close one in names of three or more characters."""
        allowed = 0 if len(said) == 2 else 1
        for a, b in zip(heard, said, strict=True):
            if a != b:
                allowed -= 1
                if allowed < 0 or fuzz.ratio(a, b) < self.min_syllable_ratio:
                    return False
        return True

    def _candidates(self, text: str) -> set[str]:
        """Names of the same length with at least ``min_shared_chars`` characters in the same places."""
        if self.min_shared_chars <= 0:
            return set(self._by_len.get(len(text), ()))
        counts: dict[str, int] = defaultdict(int)
        for position, char in enumerate(text):
            for name in self._by_char.get((len(text), position, char), ()):
                counts[name] += 1
        return {name for name, n in counts.items() if n >= self.min_shared_chars}


@lru_cache(maxsize=8192)
def _syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin per character with accent mergers (zh/z, ch/c, sh/s, n/l, -ng/-n)."""
    out = []
    for syllable in lazy_pinyin(text):
        for old, new in _INITIALS:
            if syllable.startswith(old):
                syllable = new + syllable[len(old):]
                break
        for old, new in _FINALS:
            if syllable.endswith(old):
                syllable = syllable[: -len(old)] + new
                break
        out.append(syllable)
    return tuple(out)
