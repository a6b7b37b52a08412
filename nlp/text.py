"""Call text made ready for the finders: normalised turn texts and their jieba words.

Normalisation keeps character offsets wherever it can (simplified characters, half-width forms),
so that a finder's span on ``TurnText.text`` is a span on what was said. Numbers written as digits
(五十八块 -> 58块) are a separate view, ``TurnText.digits``, used where amounts matter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from callscope.types import Conversation, Role, seconds_between
from speech.lexicon import Lexicon, load_lexicon, loose_syllable
from speech.textnorm import spoken_numbers_to_digits, to_simplified

_NUMERAL = "零〇一二两三四五六七八九十百千万亿幺"
# a run of numerals long enough to be a number, or one numeral before a unit; idioms such as
# 一下, 一般, 统一, 一点儿 are left alone because they match neither
_NUMBER_RUN = re.compile(
    rf"[{_NUMERAL}][{_NUMERAL}点]*[{_NUMERAL}](?![下般起样直定些点])"
    rf"|(?<![统唯万之单第])[{_NUMERAL}](?=[块元毛角分秒个号月年天周G兆倍折期次张份家趟])"
)
_IDIOMS = ("千万别", "千万不", "千万要", "万一", "一一")


@dataclass(slots=True)
class TurnText:
    """One turn as the finders see it."""

    index: int
    role: Role
    text: str                      # normalised, same length as what was said where possible
    words: list[str] = field(default_factory=list)
    start: float | None = None
    end: float | None = None

    @property
    def duration(self) -> float:
        """Seconds the turn lasts; 0 when the transcript has no times."""
        return seconds_between(self.start, self.end)

    @property
    def sounds(self) -> str:
        """``sound_key`` of the text: what it sounds like, for matching through ASR slips."""
        return sound_key(self.text)

    @property
    def digits(self) -> str:
        """The text with spoken numbers as digits (五十八块 -> 58块), for amounts and ids."""
        return numbers_as_digits(self.text)


@dataclass(slots=True)
class CallText:
    """A call's turns after normalisation and segmentation, plus its metadata."""

    call_id: str
    turns: list[TurnText]
    meta: dict

    def role_turns(self, role: Role) -> list[TurnText]:
        """The turns spoken by one party, in order."""
        return [t for t in self.turns if t.role == role]

    def centre_names(self) -> set[str]:
        """Names the agent's first turn opens with as the company (您好，立衡保险客服中心 / 我是恒宇保险的小宋):
        no customer buys the company, and it is no competitor of itself."""
        first = next(iter(self.role_turns("agent")), None)
        return set(_CENTRE.findall(first.text)) if first is not None else set()


# a bank's or insurer's name as an agent opens with it, invented names included (您好，福泰保险)
_CENTRE = re.compile(r"(?:^|您好[，,！!]?|[，,]|这里是|这边是|我是|欢迎致电)(?!我是|这里|这边|欢迎)([一-龥]{2,4}?(?:保险|银行))"
                     r"(?=[，,的客公]|$)")


def normalise(text: str, lexicon: Lexicon | None = None) -> str:
    """Simplified, half-width text with sound-alike slips on lexicon words corrected (连通 -> 联通)."""
    text = to_simplified(unicodedata.normalize("NFKC", text))
    return lexicon.correct(text) if lexicon is not None else text


_HAN3 = re.compile(r"[\u4e00-\u9fff]{3,}")


@lru_cache(maxsize=8192)
def _sound(char: str) -> str:
    """One character's toneless pinyin with zh/ch/sh and -ng merged (accents and ASR blur them)."""
    from pypinyin import Style, lazy_pinyin

    return loose_syllable(lazy_pinyin(char, style=Style.NORMAL)[0])


@lru_cache(maxsize=16384)
def sound_key(text: str) -> str:
    """The text as loose pinyin, one syllable per Chinese character, other characters as '|'.

    Cues are matched on this too, so a misheard 鞋号转网 still says 携号转网.
    """
    return " " + " ".join(_sound(ch) if "\u4e00" <= ch <= "\u9fff" else "|" for ch in text) + " "


def sound_cues(cues: list[str] | tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """(index, ``sound_key``) of the cue phrases long enough to match by sound: three or more
    Chinese characters and nothing else (shorter ones would sound like too much)."""
    return tuple((i, sound_key(c)) for i, c in enumerate(cues) if _HAN3.fullmatch(c))


def sound_find(text: str, word: str) -> tuple[int, int] | None:
    """Character span of the first stretch of ``text`` that sounds like ``word`` (None if none)."""
    heard, said = sound_key(text), sound_key(word).strip()
    at = heard.find(" " + said + " ")
    if at < 0 or not said:
        return None
    start = heard[:at + 1].count(" ") - 1
    return start, start + len(word)


def numbers_as_digits(text: str) -> str:
    """Spoken numbers as digits, but only runs that are numbers (一百零八 -> 108; 一下 stays)."""

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        tail = text[match.end(): match.end() + 1]
        if any((run + tail).startswith(idiom) or run == idiom for idiom in _IDIOMS):
            return run
        return spoken_numbers_to_digits(run.replace("幺", "一")) if run.strip(_NUMERAL + "点") == "" else run

    return _NUMBER_RUN.sub(convert, text)


@lru_cache(maxsize=4)
def segmenter(lexicon_path: str | None = None):
    """A jieba tokenizer that knows every lexicon term and alias (one file feeds ASR and nlp)."""
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in load_lexicon(lexicon_path).words():
        tokenizer.add_word(word, freq=max(2000, tokenizer.suggest_freq(word, tune=False)))
    return tokenizer


def words(text: str, lexicon_path: str | Path | None = None) -> list[str]:
    """jieba words of a text, with the lexicon loaded."""
    return segmenter(str(lexicon_path) if lexicon_path else None).lcut(text, HMM=True)


@lru_cache(maxsize=4)
def _tagger(lexicon_path: str | None = None):
    import jieba.posseg

    return jieba.posseg.POSTokenizer(segmenter(lexicon_path))


def tagged_words(text: str, lexicon_path: str | Path | None = None) -> list[tuple[str, str]]:
    """jieba words of a text with their part-of-speech flags (n, v, m...); lexicon terms are 'x'."""
    return [(w.word, w.flag) for w in _tagger(str(lexicon_path) if lexicon_path else None).lcut(text)]


def call_text(conversation: Conversation, lexicon_path: str | Path | None = None) -> CallText:
    """Normalise and segment every turn of a call."""
    lexicon = _lexicon(str(lexicon_path) if lexicon_path else None)
    turns = []
    for i, turn in enumerate(conversation.turns):
        text = normalise(turn.text, lexicon)
        turns.append(TurnText(i, turn.role, text, words(text, lexicon_path), turn.start, turn.end))
    # labels never reach the finders: an analysis must not see the answers of a labelled file
    meta = {k: v for k, v in conversation.extra.items() if k != "labels"}
    return CallText(conversation.call_id, turns, meta)


@lru_cache(maxsize=4)
def _lexicon(path: str | None) -> Lexicon:
    return load_lexicon(path)
