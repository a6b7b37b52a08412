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


def comparable_text(text: str) -> str:
    """Text reduced for CER: simplified, numbers as digits, letters upper-case, no punctuation."""
    text = spoken_numbers_to_digits(to_simplified(text))
    return "".join(ch for ch in text.upper() if _KEEP.match(ch) and ch != "_")
