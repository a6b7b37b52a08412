"""Whether a cue found in someone's words is taken back: negated just before it, or dropped just after.

One check for every cue list (reasons, script points, a lead's spend cut), each with the words that
negate it: 不需|要分期 denies a reason, but a bare 不 may not (还没开卡 is the reason), while 不|降档
denies a spend cut.
"""

from __future__ import annotations

import re

# words that deny a reason or script-point cue just after them
CUE_NEGATION = ("不是", "不要", "不需要", "不需", "不想", "不用", "别")
# words that deny a customer's request to spend less (不能降档 asks for no downgrade)
SPEND_CUT_NEGATION = ("不", "没", "别", "不能", "不会", "不用")
# 是不是流量超了 asks whether it is so: a question, not a denial
QUESTION = ("是不是",)
# 换套餐……算了吧: raised and dropped in the same breath (提一下额度……哦不对: corrected)
DROPPED = ("算了", "不用了", "不换了", "不办了", "不要了", "哦不对", "哦不是", "等等不对", "不对不对")
DROPPED_WINDOW = 8   # characters after a cue, punctuation not counted ("……" is six dots once normalised)
_PUNCTUATION = re.compile(r"[\W_]+")


def negated(text: str, start: int, negation: tuple[str, ...] = CUE_NEGATION) -> bool:
    """Does one of ``negation`` end just before ``text[start]`` (and not as part of 是不是)?"""
    return text.endswith(negation, 0, start) and not text.endswith(QUESTION, 0, start)


def dropped(text: str, end: int) -> bool:
    """Is what ends at ``text[end]`` dropped within ``DROPPED_WINDOW`` characters after it?"""
    after = _PUNCTUATION.sub("", text[end: end + 4 * DROPPED_WINDOW])[:DROPPED_WINDOW]
    return any(word in after for word in DROPPED)


def denied(text: str, start: int, end: int) -> bool:
    """Whether a cue found at ``text[start:end]`` is negated just before it or dropped just after it."""
    return negated(text, start) or dropped(text, end)
