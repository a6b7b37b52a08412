"""Script points: the talk-track step each agent turn carries (greeting, identity check, pitch...)."""

from __future__ import annotations

import numpy as np

from callscope.types import ScriptPoint
from nlp.scoring import Scorer
from nlp.text import CallText

# a turn made only of these (嗯。 是的。 嗯，好的。) is a back-channel and carries no step of the script;
# a short turn with anything else in it does (再见。 请讲。 订单号。)
BACK_CHANNEL = frozenset("嗯啊哦呃噢喔诶欸哎唉呀哈嘛呢吧了好的是对行")


def find_script_points(call: CallText, scorer: Scorer, *, min_score: float = 0.0) -> list[ScriptPoint]:
    """One point per agent turn that says something, with the model's probability for it."""
    names = list(scorer.taxonomy.script_points)
    probs = scorer.point_scores(call)
    points = []
    for turn, row in zip(call.role_turns("agent"), probs, strict=True):
        if not says_something(turn.text):
            continue
        best = int(np.argmax(row))
        if row[best] >= min_score:
            points.append(ScriptPoint(turn.index, names[best], float(row[best])))
    return points


def says_something(text: str) -> bool:
    """Whether a turn is a statement rather than a back-channel: it has a word that is not a filler or
    an acknowledgement (punctuation not counted)."""
    return any(ch.isalnum() and ch not in BACK_CHANNEL for ch in text)
