"""Script points: the talk-track step each agent turn carries (greeting, identity check, pitch...)."""

from __future__ import annotations

import numpy as np

from callscope.types import ScriptPoint
from nlp.scoring import Scorer
from nlp.text import CallText

# a back-channel such as 嗯。 or 是的。 carries no step of the script
MIN_CHARS = 4


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
    """Whether a turn is a statement rather than a back-channel (punctuation and fillers not counted)."""
    return sum(1 for ch in text if ch.isalnum() and ch not in "嗯啊哦呃") >= MIN_CHARS
