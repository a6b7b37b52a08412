"""The spaCy side of competitor finding: a ``competitor_finder`` pipe over a blank jieba ``zh`` pipeline.

The pipe puts candidate brand names of one text into ``doc.spans["competitors"]`` (label = canonical
brand, ``id_`` = alias | product | fuzzy; the group's ``attrs`` hold per span ``scores``, ``names``
(the lexicon name it stands for) and ``chars``, the exact character offsets of the words said, which
for a garbled name may lie inside a token):

- a PhraseMatcher over every alias and product of the lexicon (``nlp/patterns/competitors.yaml``);
  the jieba dictionary holds the domain lexicon and every name, so names come out as whole tokens
  and a name hidden inside other words (人寿 in 老人寿辰) never matches;
- a sound-alike matcher for names garbled by transcription (联同, 招航, 平按), the registered
  function ``cc.fuzzy_alias.v1`` (``nlp/competitors/fuzzy.py``), in two tiers: a name that reads
  the same (or, of three syllables or more, differs in one close syllable) needs any brand frame;
  a name one close syllable off (张航 for 招行, 广片 for 广电) or a real word (工号, 变性) needs a
  strong frame (``sound_alike`` in the lexicon: 用的是 X, X 那边, X 的卡, 比 X), heard by sound
  so that a garbled frame counts (那分 for 那份), and a real word also a frame or a clause edge on
  the other side (比工号那个贵, but not 您的工号是多少);
- look-alike filters that need only the text: the brand's ``reject`` patterns (平安夜, 电信诈骗),
  a brand frame for names that are everyday words (移动 as a verb), and bank cards used to pay.

What needs the whole call (own company, industry, dimension) is done in ``nlp/competitors.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, SpanGroup

import nlp.competitors.fuzzy  # noqa: F401  (registers cc.fuzzy_alias.v1)
from nlp.competitors.fuzzy import syllables
from nlp.competitors.patterns import Brand, CompetitorPatterns, load_competitor_patterns, patterns_key
from speech.lexicon import load_lexicon

SPANS_KEY = "competitors"
# names dropped only because they were the customer's means of payment (工行卡还款): the call-level
# pass also drops the same bank named again in the next turns (您的工行卡里留够钱, 建行那张)
INSTRUMENTS_KEY = "competitor_instruments"
EXACT_SCORE = {"alias": 0.95, "product": 0.9}
AMBIGUOUS_FACTOR = 0.9
_FUZZY_DEFAULT = {"@misc": "cc.fuzzy_alias.v1", "min_ratio": 70.0, "max_word_freq": 100,
                  "min_shared_chars": 1, "max_len": 5}
_Match = tuple[Span, float, str, tuple[int, int]]   # span, score, lexicon name, exact char offsets
_Frame = tuple[str, tuple[str, ...], str, frozenset[str] | None]   # side, syllables, text, industries
FUZZY_SCORE = 0.8
# jieba frequency above which a word is an everyday word (官方 1748, 平常 1337), never a brand heard a
# syllable off; rarer words (变性 188, 工号 3) may be slips for one (电信, 工行)
EVERYDAY_WORD_FREQ = 1000
FRAME_CHARS = 4
# Whisper separates clauses it does not punctuate with a space (一直没人管 变性那边), so a space is an edge too
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_CLAUSE_EDGE = "，。？！；、,.?!;… "


@Language.factory(
    "competitor_finder",
    default_config={"patterns": None, "spans_key": SPANS_KEY, "fuzzy": _FUZZY_DEFAULT},
)
def make_competitor_finder(nlp: Language, name: str, patterns: str | None, spans_key: str,
                           fuzzy: Callable[..., Any]) -> CompetitorFinder:
    """spaCy factory: the pipe reads its lexicon from ``patterns`` (None: the bundled file)."""
    return CompetitorFinder(nlp, name=name, patterns=patterns, spans_key=spans_key, fuzzy=fuzzy)


def _text(doc: Doc) -> str:
    """The doc's text, joined once and kept on the doc: spaCy rebuilds ``Doc.text`` from its tokens on
    every access, and the finder reads it for every candidate (7 % of text analysis before)."""
    text = doc.user_data.get("callscope.text")
    if text is None:
        text = doc.user_data["callscope.text"] = doc.text
    return text


class CompetitorFinder:
    """Finds candidate competitor names in a Doc and drops look-alikes that the text gives away."""

    def __init__(self, nlp: Language, *, name: str = "competitor_finder", patterns: str | None = None,
                 spans_key: str = SPANS_KEY, fuzzy: Callable[..., Any] | None = None) -> None:
        self.name = name
        self.spans_key = spans_key
        self.lexicon: CompetitorPatterns = load_competitor_patterns(patterns)
        self._word_freq, self._everyday_freq = _use_domain_jieba(nlp, self.lexicon)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for text, (brand, kind) in self.lexicon.names.items():
            self.matcher.add(f"{brand}|{kind}", [nlp.make_doc(text)])
        self.fuzzy = fuzzy
        sound = self.lexicon.sound_alike
        self._strong: dict[str, list[_Frame]] = {}
        for side, frames in (("before", sound.strong_before), ("after", sound.strong_after)):
            for frame, scope in frames.items():
                said = syllables(frame)
                self._strong.setdefault(said[0], []).append((side, said, frame, scope))
        if fuzzy is not None:
            fuzzy.index((n for n, (_, kind) in self.lexicon.names.items() if kind == "alias"),
                        generic=sound.generic_affixes)

    def __call__(self, doc: Doc) -> Doc:
        """Set ``doc.spans[spans_key]`` to the names found, look-alikes dropped."""
        kept: list[tuple[Span, float, str, tuple[int, int]]] = []
        instruments: list[Span] = []
        exact = self._exact(doc)
        taken = {i for m in exact for i in range(m[0].start, m[0].end)}
        for span, score, name, chars in exact + self._fuzzy(doc, taken):
            brand = self.lexicon.brands[span.label_]
            if not self._keep(span, brand, chars):
                continue
            if self._instrument(_text(doc), *chars, brand) and not self._compared(_text(doc)):
                instruments.append(span)
                continue
            ambiguous = name in brand.ambiguous
            kept.append((span, score * (AMBIGUOUS_FACTOR if ambiguous else 1.0), name, chars))
        kept.sort(key=lambda k: k[3])
        doc.spans[self.spans_key] = SpanGroup(
            doc, name=self.spans_key, spans=[k[0] for k in kept],
            attrs={"scores": [k[1] for k in kept], "names": [k[2] for k in kept],
                   "chars": [k[3] for k in kept]})
        doc.spans[INSTRUMENTS_KEY] = SpanGroup(doc, name=INSTRUMENTS_KEY, spans=instruments)
        return doc

    def _exact(self, doc: Doc) -> list[_Match]:
        """Longest non-overlapping alias and product matches."""
        found = []
        for match_id, start, end in self.matcher(doc):
            brand, kind = doc.vocab.strings[match_id].split("|")
            span = Span(doc, start, end, label=brand, span_id=kind)
            found.append((span, EXACT_SCORE[kind], span.text, (span.start_char, span.end_char)))
        found.sort(key=lambda m: (m[0].start - m[0].end, m[0].start))
        taken: set[int] = set()
        kept = []
        for match in found:
            if not taken.intersection(range(match[0].start, match[0].end)):
                kept.append(match)
                taken.update(range(match[0].start, match[0].end))
        return kept

    def _fuzzy(self, doc: Doc, taken: set[int]) -> list[_Match]:
        """Sound-alike names on tokens no exact match took: names that read the same where any brand
        frame surrounds them, names a close syllable off or real words next to a strong frame."""
        if self.fuzzy is None:
            return []
        common = self.lexicon.sound_alike.max_word_freq
        found = [(start, end, name, ratio) for start, end, name, ratio in self.fuzzy(doc, taken, self._word_freq)
                 if self._framed((start, end), _text(doc)) and self._word_freq(_text(doc)[start:end]) <= common]
        taken_chars = {c for i in taken for c in range(doc[i].idx, doc[i].idx + len(doc[i]))}
        found += self._anchored(doc, taken_chars)
        found += self._enclosed(doc, taken_chars)
        hits: list[_Match] = []
        used: set[int] = set()
        for start, end, name, ratio in sorted(found, key=lambda h: (-h[3], h[0])):
            span = doc.char_span(start, end, label=self.lexicon.names[name][0], span_id="fuzzy",
                                 alignment_mode="expand")
            if span is not None and not used.intersection(range(start, end)):
                used.update(range(start, end))
                hits.append((span, FUZZY_SCORE * ratio / 100.0, name, (start, end)))
        return hits

    def _anchored(self, doc: Doc, taken: set[int]) -> list[tuple[int, int, str, float]]:
        """Names heard next to a strong frame (用的是张航的卡, 变性那边, 我国售那分): the best
        window of name length on the frame's open side, judged by ``fuzzy.near``."""
        text = _text(doc)
        hits = []
        for side, a, b, scope in self._strong_frames(doc):
            best: tuple[tuple[int, float, int], tuple[int, int, str, float]] | None = None
            for size in range(2, self.fuzzy.max_len + 1):
                start, end = (b, b + size) if side == "before" else (a - size, a)
                window = text[max(start, 0):end]
                if start < 0 or len(window) < size or taken.intersection(range(start, end)):
                    break
                near = self.fuzzy.near(window)
                # a name a close syllable off must be heard as a word of its own, and not as an everyday
                # word that only sounds near it (官方客服 is no 广发; 变性 and 工号 are rare enough to be slips)
                if near is None or (near.close and (not self._one_word(doc, start, end)
                                                    or self._everyday_freq(window) > EVERYDAY_WORD_FREQ)):
                    continue
                industry = self.lexicon.brands[self.lexicon.names[near.name][0]].industry
                if (scope is None or industry in scope) and self._heard_enough(window, text, (start, end), side):
                    rank = (near.close, -near.ratio, -size)
                    if best is None or rank < best[0]:
                        best = (rank, (start, end, near.name, near.ratio))
            if best is not None:
                hits.append(best[1])
        return hits

    def _enclosed(self, doc: Doc, taken: set[int]) -> list[tuple[int, int, str, float]]:
        """Non-words a close syllable off a name with a brand frame on both sides (都是广变的): two
        weak frames around a word jieba does not know say as much as one strong frame."""
        text = _text(doc)
        hits = []
        for token in doc:
            a, b = token.idx, token.idx + len(token)
            if (len(token) < 2 or not _HAN_RUN.fullmatch(token.text) or taken.intersection(range(a, b))
                    or self._word_freq(token.text) > self.fuzzy.max_word_freq
                    or not (self._framed_before(a, text) and self._framed_after(b, text))):
                continue
            near = self.fuzzy.near(token.text)
            if near is not None:
                hits.append((a, b, near.name, near.ratio))
        return hits

    def _one_word(self, doc: Doc, start: int, end: int) -> bool:
        """Is ``start:end`` one token, or inside one rare token (比广片)? A name a close syllable off
        must be heard as a word of its own, not as pieces of others (本人|到, 多|收)."""
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None or len(span) != 1:
            return False
        token = span[0]
        return (token.idx, token.idx + len(token)) == (start, end) or \
            self._word_freq(token.text) <= self.fuzzy.max_word_freq

    def _heard_enough(self, window: str, text: str, chars: tuple[int, int], side: str) -> bool:
        """Is a window next to a strong frame evidence enough? A word of the dictionary must not be
        too common and needs a frame or a clause edge on its other side too."""
        freq = self._word_freq(window)
        if freq <= self.fuzzy.max_word_freq:
            return True
        if freq > self.lexicon.sound_alike.max_word_freq:
            return False
        a, b = chars
        if side == "after":
            return a == 0 or text[a - 1] in _CLAUSE_EDGE or self._framed_before(a, text)
        return b == len(text) or text[b] in _CLAUSE_EDGE or self._framed_after(b, text)

    def _strong_frames(self, doc: Doc) -> list[tuple[str, int, int, frozenset[str] | None]]:
        """(side, start, end, industries) of each strong frame, heard by sound (那分 for 那份;
        one-character frames by their character), whose edges are token edges or inside rare tokens
        (比较 is no 比 frame, 的保险费 no 的保险 frame, 比广片 is a 比 frame)."""
        text = _text(doc)
        said = syllables(text)
        frames = []
        for i, syllable in enumerate(said):
            for side, frame, written, scope in self._strong.get(syllable, ()):
                end = i + len(frame)
                if said[i:end] == frame and (len(frame) > 1 or text[i] == written):
                    frames.append((side, i, end, scope))
        if not frames:
            return frames
        edges = {len(text)}
        for token in doc:
            edges.add(token.idx)
            if len(token) > 1 and self._word_freq(token.text) <= self.fuzzy.max_word_freq:
                edges.update(range(token.idx, token.idx + len(token)))
        return [f for f in frames if f[1] in edges and f[2] in edges]

    def _keep(self, span: Span, brand: Brand, chars: tuple[int, int]) -> bool:
        """False for a look-alike: a reject pattern covers it, a place or employer named after it,
        or an everyday word outside a brand frame. (A bank used to pay is ``_instrument``.)"""
        text = _text(span.doc)
        a, b = chars
        if span.id_ != "fuzzy" and any(m.start() < b and m.end() > a
                                   for rx in brand.reject for m in rx.finditer(text)):
            return False
        if any(rx.search(text[b:]) for rx in self.lexicon.reject_after):
            return False
        return not (span.text in brand.ambiguous and not self._framed(chars, text))

    def _framed(self, chars: tuple[int, int], text: str) -> bool:
        """Is the name right after or right before a word that marks a company (在/用/比 X, X 的/那边)?
        Read on characters, not tokens, so that jieba's 我用|移动 still counts as 用 移动."""
        return self._framed_before(chars[0], text) or self._framed_after(chars[1], text)

    def _framed_before(self, start: int, text: str) -> bool:
        """Does a brand frame word end at ``start``?"""
        before = text[max(0, start - FRAME_CHARS):start]
        return any(before.endswith(w) for w in self.lexicon.brand_before)

    def _framed_after(self, end: int, text: str) -> bool:
        """Does a brand frame word begin at ``end``?"""
        after = text[end:end + FRAME_CHARS]
        return any(after.startswith(w) for w in self.lexicon.brand_after)

    def _compared(self, text: str) -> bool:
        """Is the name compared with the call's company in the same turn, however far off (我建行的卡也扣过
        年费，人家一个电话就给免了，哪像你们)? Then it is a competitor even in a payment clause."""
        return any(rx.search(text) for rx in self.lexicon.compare)

    def _instrument(self, text: str, a: int, b: int, brand: Brand) -> bool:
        """A bank card or wallet in a payment clause (用工行卡还款) is the customer's instrument."""
        lex = self.lexicon
        if lex.instrument is None or brand.industry not in lex.instrument_industries:
            return False
        window = lex.instrument_window
        before = _clause_tail(text[max(0, a - window):a])
        after = _clause_head(text[b:b + window])
        return bool(lex.instrument.search(before) or lex.instrument.search(after))


def _clause_tail(text: str) -> str:
    """The part of ``text`` after its last punctuation mark."""
    cut = max(text.rfind(p) for p in "，。？！；,.?!;…")
    return text[cut + 1:]


def _clause_head(text: str) -> str:
    """The part of ``text`` before its first punctuation mark."""
    cuts = [i for i in (text.find(p) for p in "，。？！；,.?!;…") if i >= 0]
    return text[:min(cuts)] if cuts else text


@lru_cache(maxsize=8)
def domain_jieba(patterns: str, version: int):
    """A jieba tokenizer holding the domain lexicon (as ``nlp.text.segmenter`` does) plus every
    competitor name of the file ``patterns`` as of modification time ``version``. It is our own
    instance, so the shared segmenter of ``nlp.text`` is left as it is."""
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    lexicon = load_competitor_patterns(patterns)
    words = [*load_lexicon().words(), *lexicon.names]
    # how common each domain word is in everyday Chinese, before the boost that keeps it whole
    tokenizer.everyday_freq = {word: int(tokenizer.FREQ.get(word) or 0) for word in words}
    for word in words:
        tokenizer.add_word(word, freq=max(2000, tokenizer.suggest_freq(word, tune=False)))
    return tokenizer


def _use_domain_jieba(nlp: Language, lexicon: CompetitorPatterns) -> tuple[Callable[[str], int], Callable[[str], int]]:
    """Make a jieba ``zh`` tokenizer segment with the domain dictionary (names as whole tokens);
    returns the dictionary's word frequency lookup and the everyday one, without the domain boost
    (0 for unknown words)."""
    tokenizer = nlp.tokenizer
    if getattr(tokenizer, "jieba_seg", None) is None:
        raise ValueError("competitor_finder needs spacy.blank('zh') with the jieba segmenter")
    seg = domain_jieba(lexicon.source, lexicon.version)
    tokenizer.jieba_seg = seg
    freq, everyday = seg.FREQ, seg.everyday_freq
    return (lambda word: int(freq.get(word) or 0),
            lambda word: everyday[word] if word in everyday else int(freq.get(word) or 0))


def competitor_nlp(patterns: str | Path | None = None) -> Language:
    """The pipeline for a lexicon file, built once per file version: blank ``zh`` with jieba, then
    ``competitor_finder``."""
    return _competitor_nlp(*patterns_key(patterns))


@lru_cache(maxsize=8)
def _competitor_nlp(patterns: str, version: int) -> Language:
    """Build the pipeline (``version`` is only part of the cache key)."""
    import jieba

    jieba.setLogLevel(60)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("competitor_finder", config={"patterns": patterns})
    return nlp
