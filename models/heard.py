"""Training sets: labelled calls, our own transcripts of them, and extra labelled calls.

A model trained only on written transcripts meets Whisper's slips for the first time at a customer
site. Training also on our own transcription of the same labelled recordings (labels moved onto
our turns by time) teaches the heads what those slips look like: on unseen calls from recordings,
reasons macro-F1 went 0.74 -> 0.79 and script points 0.74 -> 0.77 (README, "Measured").

Extra labelled calls (``callscope train --extra``) teach the script-point head, which turns carry each
reason and the per-reason heads over the customer's words, but not the shared reason head, which stays
calibrated on the main corpus (``with_extra``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.corpus import LabelledCall
from models.evaluate import align_turns
from nlp.text import CallText

HEARD_WEIGHT = 0.5  # a heard call counts half: it repeats a written one, less reliably


def heard_labels(own: CallText, call: LabelledCall) -> dict[str, Any]:
    """The call's labels moved onto the turns of our own transcript (script points by time overlap).

    Call-level labels (reasons, lead, outcome) carry over as they are; an agent turn of ours gets the
    script point of the labelled agent turn it overlaps most. Without times nothing can be moved.
    """
    gold_turns = [t.to_dict() for t in call.conversation.turns]
    ours = [{"role": t.role, "start": t.start, "end": t.end} for t in own.turns]
    by_gold = {p["turn"]: p["point"] for p in call.labels.get("script_points", [])}
    if not gold_turns or gold_turns[0].get("start") is None or any(t["start"] is None for t in ours):
        return {**call.labels, "script_points": []}
    points = [{"turn": i, "point": by_gold[g]} for i, g in align_turns(ours, gold_turns).items()
              if g in by_gold and own.turns[i].role == "agent"]
    return {**call.labels, "script_points": points}


def training_set(calls: list[LabelledCall], texts: list[CallText], heard: dict[str, CallText],
                 chosen: Iterable[int] | None = None) -> tuple[list[CallText], list[dict], list[float]]:
    """Texts, labels and weights to fit on: the chosen written calls, then our transcripts of them."""
    chosen = list(range(len(calls))) if chosen is None else list(chosen)
    out_texts = [texts[i] for i in chosen]
    out_labels = [calls[i].labels for i in chosen]
    weights = [1.0] * len(chosen)
    for i in chosen:
        own = heard.get(calls[i].conversation.call_id)
        if own is not None:
            out_texts.append(own)
            out_labels.append(heard_labels(own, calls[i]))
            weights.append(HEARD_WEIGHT)
    return out_texts, out_labels, weights


def with_extra(texts: list[CallText], labels: list[dict], weights: list[float], extra_texts: list[CallText],
               extra: list[LabelledCall]) -> dict[str, Any]:
    """``fit_scorer`` arguments for a training set plus extra labelled calls.

    The extra calls count fully for the script points, the reasons' turn attribution and the per-reason
    heads over the customer's words (``models.reason_text``), but stay out of the shared reason head.
    Calls by other writers made the script points better wherever measured (corpus CV 0.855 -> 0.865, dev 0.791 -> 0.802 with dev2 added, dev2 0.834 -> 0.848 with dev added), but
    made the reason head worse on the other writer's calls (reasons micro-F1 dev 0.913 -> 0.889, dev2
    0.892 -> 0.881) and on the corpus (macro-F1 0.918 -> 0.898): their sparser cue hits teach it to
    fire on less. Re-checked with seven writers, each scored by a model trained on the other six:
    reasons macro-F1 0.868 mean with the head on the corpus only, 0.857 with the extra calls in it
    (held-out dev5 0.869 against 0.866); with eighteen, on held-out test/dev5/dev16, 0.814/0.867/0.855
    against 0.814/0.865/0.838 (2026-11-24).
    """
    return {"calls": texts + extra_texts, "labels": labels + [c.labels for c in extra],
            "weights": weights + [1.0] * len(extra), "reason_head": [True] * len(texts) + [False] * len(extra)}
