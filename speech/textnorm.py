"""Text normalisation for Whisper output: simplified characters and comparable numbers.

Whisper base often writes traditional characters for Mandarin speech; callers of Callscope expect
simplified. For scoring, numbers are written as Arabic digits on both sides so that 五十八 and 58
(or 幺三八 and 138) count as the same words.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from functools import lru_cache

_KEEP = re.compile(r"[\w]", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


# t2s keeps 著, which traditional text uses for both 著 (著名) and the particle 着 (别著急, 放著吧);
# in simplified text it is 着 except in these words
_ZHU_WORDS = ("显著", "著名", "著作", "名著", "著称", "卓著", "土著", "编著", "专著", "原著", "巨著",
              "论著", "著述", "著者", "昭著", "著录", "译著", "遗著", "合著", "新著", "著书")
_ZHU = re.compile("|".join(_ZHU_WORDS) + "|著")


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (OpenCC ``t2s``, with 著 as the particle 着 outside words such
    as 著名), full-width ASCII to half-width."""
    text = _t2s().convert(unicodedata.normalize("NFKC", text))
    return _ZHU.sub(lambda m: m.group(0) if len(m.group(0)) > 1 else "着", text) if "著" in text else text


def spoken_numbers_to_digits(text: str) -> str:
    """Chinese numerals to Arabic digits (一百零八 -> 108, 幺三八 -> 138), via cn2an."""
    import cn2an

    with warnings.catch_warnings():  # cn2an warns on every odd mix (万 alone, 1百); not our user's concern
        warnings.simplefilter("ignore")
        try:
            return cn2an.transform(text, "cn2an")
        except (ValueError, KeyError):  # cn2an gives up on some odd mixes; keep the text as it is
            return text


_NUMERAL_DIGITS = {"零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4",
                   "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
# three or more numerals with no unit between them are read digit by digit (尾号零零三, 八〇三六)
_DIGIT_STRING = re.compile(f"[{''.join(_NUMERAL_DIGITS)}]{{3,}}")
# Arabic digits with a unit, as Whisper writes amounts: 2万, 4.5万, 1万5 (= 15000), 1千2 (= 1200)
_DIGITS_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)([千万亿])(\d(?![\d.十百千万亿]))?")
_UNIT = {"千": 1000, "万": 10_000, "亿": 100_000_000}
_PERCENT = re.compile(r"百分之(\d+(?:\.\d+)?)")


def canonical_numbers(text: str) -> str:
    """Every number written one way, digits: 一万五 / 1万5 -> 15000, 零零三 -> 003 (zeros kept),
    百分之零点七 / 百分之0.7 -> 0.7%. For scoring, where the same amount must compare equal however
    the reference or Whisper wrote it."""
    text = _DIGIT_STRING.sub(lambda m: "".join(_NUMERAL_DIGITS[c] for c in m.group(0)), text)
    text = spoken_numbers_to_digits(text)
    text = _DIGITS_WITH_UNIT.sub(_expand_unit, text)
    return _PERCENT.sub(r"\1%", text)


def _expand_unit(match: re.Match[str]) -> str:
    """2万 -> 20000, 1万5 -> 15000: a lone digit after the unit is the next unit down."""
    unit = _UNIT[match.group(2)]
    value = float(match.group(1)) * unit + (int(match.group(3)) * unit / 10 if match.group(3) else 0)
    return str(int(value)) if value == int(value) else str(value)


def word_chars(text: str) -> str:
    """``text`` without punctuation, spaces or underscores: the characters that are said."""
    return "".join(ch for ch in text if _KEEP.match(ch) and ch != "_")


def written_chars(text: str) -> int:
    """Characters said, for speech rate: simplified text without punctuation or spaces, numbers
    as written (五十八 is three characters, as it is three syllables)."""
    return len(word_chars(to_simplified(text)))


def comparable_text(text: str) -> str:
    """Text reduced for CER: simplified, numbers as canonical digits, letters upper-case, no
    punctuation."""
    return word_chars(canonical_numbers(to_simplified(text)).upper())
