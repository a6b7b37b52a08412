"""Scorers: what turns a call's text into per-code scores, untrained (cues) or trained (models/).

A scorer answers three questions about a ``CallText``; the finders in ``reasons.py``,
``script_points.py`` and ``leads.py`` turn the answers into findings. ``CueScorer`` is the
default that needs no training: it counts the taxonomy's cue phrases. ``models/`` provides a
trained scorer with the same methods, so the finders never know which one they were given.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from nlp.negation import denied
from nlp.taxonomy import Code, Taxonomy
from nlp.text import CallText, TurnText

# a reason said by the agent (explaining a charge, say) counts for less than the customer saying it;
# in an outbound call the agent's words are the pitch, not the customer's reason, so they count not at all
AGENT_REASON_WEIGHT = {"inbound": 0.3, "outbound": 0.0}
# an outbound telesales call is, for the customer, about the product offered to them (the taxonomy's
# ``outbound: true`` reason): the cue scorer gives that reason at least this probability
OUTBOUND_PRIOR = 0.9
# an agent calling about the customer's own case (a refund, a repair, a claim) says so in one of their
# first few turns
FOLLOW_UP_AGENT_TURNS = 4
# ...while the customer has only answered (喂？ 是我。 后四位零七零三。), not yet raised a matter of their own
FOLLOW_UP_REPLY_CHARS = 20


class Scorer(Protocol):
    """What a finder needs from a model."""

    taxonomy: Taxonomy
    reason_threshold: float          # a reason is found when its call probability reaches this

    def reason_scores(self, call: CallText) -> tuple[np.ndarray, np.ndarray]:
        """(turn x reason evidence >= 0, per-call reason probability in [0, 1])."""

    def point_scores(self, call: CallText) -> np.ndarray:
        """Agent turn x script point probabilities (rows in the order of ``call.role_turns('agent')``)."""

    def lead_probability(self, call: CallText) -> float | None:
        """P(the call holds a sales lead) by a learnt head, or None where there is none."""


def cue_counts(turn: TurnText, codes: dict[str, Code]) -> np.ndarray:
    """How many distinct cues of each code occur in the turn, as written or as heard (by their
    pinyin, for ASR slips), not counting negated (不是降套餐) or dropped (换套餐……算了) ones."""
    text, sounds = turn.text, turn.sounds
    counts = []
    for code in codes.values():
        found = {i: m for i, m in enumerate(cue.search(text) for cue in code.cues) if m}
        kept = sum(1 for m in found.values() if not denied(text, m.start(), m.end()))
        counts.append(kept + code.sound_hits(sounds, set(found)))
    return np.array(counts, dtype=float)


def reason_evidence(call: CallText, taxonomy: Taxonomy) -> np.ndarray:
    """Turn x reason cue evidence, agent turns weighted down, codes of other industries zeroed."""
    agent_weight = AGENT_REASON_WEIGHT.get(call.meta.get("direction", "inbound"), AGENT_REASON_WEIGHT["inbound"])
    rows = [cue_counts(t, taxonomy.reasons) * (1.0 if t.role == "customer" else agent_weight)
            for t in call.turns]
    if not rows:
        return np.zeros((0, len(taxonomy.reasons)))
    evidence = np.array(rows)
    codes = list(taxonomy.reasons)
    offer = taxonomy.outbound_reason
    if call.meta.get("direction") == "outbound" and offer is not None:
        # what the agent says in a sales call is the offer: it keeps the call on the product
        agent = np.array([t.role == "agent" for t in call.turns])
        evidence[agent, codes.index(offer)] += AGENT_REASON_WEIGHT["inbound"]
        case = follow_up_turn(call, taxonomy)
        if case is not None:   # the agent states the reason of the call, as a caller would
            evidence[case] = cue_counts(call.turns[case], taxonomy.reasons)
            evidence[case, codes.index(offer)] = 0.0
    return evidence * industry_mask(call, taxonomy)


def follow_up_turn(call: CallText, taxonomy: Taxonomy) -> int | None:
    """The turn of an outbound call in which the agent opens on the customer's own case rather than an
    offer (您前天报修的宽带……给您做个回访, 您上周退的那台洗衣机，退款收到了吗): one of the agent's first
    ``FOLLOW_UP_AGENT_TURNS`` turns with a ``follow_up`` cue and a cue of a reason other than the offer,
    while the customer has said no more than short answers. Such a call is about that case. None for other calls."""
    cues = taxonomy.follow_up_cues
    if call.meta.get("direction") != "outbound" or not cues:
        return None
    others = {code: body for code, body in taxonomy.reasons.items() if not body.outbound}
    agent_turns = 0
    for turn in call.turns:
        if turn.role == "customer":
            if len(turn.text) >= FOLLOW_UP_REPLY_CHARS or cue_counts(turn, others).any():
                return None   # the customer raised a matter first: the agent's answer to it is no follow-up
            continue
        if any(cue.search(turn.text) for cue in cues) and cue_counts(turn, others).any():
            return turn.index
        agent_turns += 1
        if agent_turns == FOLLOW_UP_AGENT_TURNS:
            return None
    return None


def is_sales_call(call: CallText, taxonomy: Taxonomy) -> bool:
    """An outbound call that is about an offer: not a follow-up of the customer's own case."""
    return (call.meta.get("direction") == "outbound" and taxonomy.outbound_reason is not None
            and follow_up_turn(call, taxonomy) is None)


def path_evidence(call: CallText, taxonomy: Taxonomy) -> np.ndarray:
    """Per reason, the cues named by the self-service menus the caller went through (``path`` in the
    call's metadata: 理赔进度查询, 增值业务退订): what the caller asked for before saying a word,
    which no transcription slip can lose. Zero for a call without a path."""
    steps = call.meta.get("path") or []
    names = dict.fromkeys(s["name"] for s in steps if isinstance(s, dict) and isinstance(s.get("name"), str))
    if not names:
        return np.zeros(len(taxonomy.reasons))
    menus = TurnText(-1, "customer", "，".join(names))
    return np.minimum(cue_counts(menus, taxonomy.reasons), 1.0) * industry_mask(call, taxonomy)


def industry_mask(call: CallText, taxonomy: Taxonomy) -> np.ndarray:
    """1 for reasons that apply to the call's industry, 0 for the others."""
    industry = call.meta.get("industry")
    return np.array([1.0 if code.applies_to(industry) else 0.0 for code in taxonomy.reasons.values()])


CONTEXT_FEATURES = 7


def point_features(call: CallText, taxonomy: Taxonomy) -> np.ndarray:
    """Agent turn x (script-point cue counts, cue counts of the customer turn just before
    (``after`` in the taxonomy: 太贵了 calls for objection handling, 为什么 for an explanation),
    position and context features)."""
    agent = call.role_turns("agent")
    points = taxonomy.script_points.values()
    rows = []
    for k, turn in enumerate(agent):
        previous = call.turns[turn.index - 1] if turn.index > 0 else None
        said = previous.text if previous is not None and previous.role == "customer" else ""
        prompted = [sum(1 for cue in code.after if cue.search(said)) for code in points]
        context = [
            float(k == 0), float(k == len(agent) - 1), float(k >= len(agent) - 2),
            k / max(1, len(agent) - 1), float(turn.text.rstrip().endswith(("?", "？", "吗", "呢"))),
            float("?" in turn.text or "？" in turn.text), min(len(turn.text), 120) / 120,
        ]
        rows.append(np.concatenate([cue_counts(turn, taxonomy.script_points), prompted, context]))
    return np.array(rows) if rows else np.zeros((0, point_feature_width(taxonomy)))


def point_feature_width(taxonomy: Taxonomy) -> int:
    """Columns of ``point_features``."""
    return 2 * len(taxonomy.script_points) + CONTEXT_FEATURES


class CueScorer:
    """The untrained default: scores from the taxonomy's cues and a few position rules."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.version = "cues"
        self.reason_threshold = 0.5

    def reason_scores(self, call: CallText) -> tuple[np.ndarray, np.ndarray]:
        """Cue evidence per turn, and per call 1 - exp(-evidence) so more cues mean more certainty."""
        evidence = reason_evidence(call, self.taxonomy)
        total = evidence.sum(axis=0) if len(evidence) else np.zeros(len(self.taxonomy.reasons))
        probs = 1.0 - np.exp(-0.8 * total)
        codes = list(self.taxonomy.reasons)
        offer = self.taxonomy.outbound_reason
        if is_sales_call(call, self.taxonomy):
            probs[codes.index(offer)] = max(probs[codes.index(offer)], OUTBOUND_PRIOR)
        return evidence, probs

    def lead_probability(self, call: CallText) -> float | None:
        """No learnt lead head: the lead finder's rules decide alone."""
        return None

    def point_scores(self, call: CallText) -> np.ndarray:
        """Softmax over cue counts plus position bonuses (greeting first, closing last)."""
        features = point_features(call, self.taxonomy)
        if not len(features):
            return features
        names = list(self.taxonomy.script_points)
        width = len(names)
        counts = features[:, :width] + np.minimum(features[:, width: 2 * width], 1.0)
        bonus = {"greeting": (0, 2.0), "closing": (2, 1.5), "needs_discovery": (4, 1.0)}
        for point, (column, weight) in bonus.items():
            if point in names:
                counts[:, names.index(point)] += weight * features[:, 2 * width + column]
        logits = 2.0 * counts
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)
