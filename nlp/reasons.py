"""Call reasons: which reasons a call is about, the primary first, and the turns each one owns.

A call about a bill and then a plan change is two reasons, each with its own turns and seconds,
so that handle time can later be counted per reason rather than per call. Every turn is owned by
exactly one reason: the one with the strongest evidence in it, or else the one being talked about
just before (a conversation stays on a topic until something moves it).
"""

from __future__ import annotations

import numpy as np

from callscope.types import ReasonFinding
from nlp.scoring import Scorer, follow_up_turn, industry_mask, path_evidence
from nlp.taxonomy import Taxonomy
from nlp.text import CallText

OPENING_TURNS = 4
# an opening turn this long that fires no cue is the caller's story (拉链拉到一半就卡住了): the reason is in it,
# in words the cues miss, so a cue said later (顺便问问有没有活动) does not make the primary
STORY_CHARS = 20
# evidence below this (a faint n-gram likeness) does not move a turn to another reason;
# one cue said by the agent (0.3) does
MIN_TURN_EVIDENCE = 0.25
# a reason this unlikely has nothing said for it (no cue of it anywhere, only the model's floor)
NOTHING_SAID = 0.05
# a reason below its bar can still be the primary one when the customer opens with it, but not
# when the scorer all but rules it out (我要退——哦不对，不是退: the cue was said and taken back)
UNSURE_PRIMARY_FLOOR = 0.1


def find_reasons(call: CallText, scorer: Scorer, *, threshold: float | None = None,
                 max_reasons: int = 3) -> list[ReasonFinding]:
    """Reasons scoring at least the threshold (default: the scorer's own; at least one reason),
    primary first, each with its turns and seconds."""
    threshold = scorer.reason_threshold if threshold is None else threshold
    codes = list(scorer.taxonomy.reasons)
    if not len(call.turns):
        return []
    evidence, probs = scorer.reason_scores(call)
    probs = probs * industry_mask(call, scorer.taxonomy)
    chosen = _primary_first(call, scorer.taxonomy, evidence, probs, threshold, max_reasons)
    owners = _owners(call, chosen, [codes.index(c) for c in chosen], evidence)
    findings = []
    for code in chosen:
        turns = [i for i, owner in enumerate(owners) if owner == code]
        seconds = sum(call.turns[i].duration for i in turns)
        findings.append(ReasonFinding(code, float(probs[codes.index(code)]), turns, seconds))
    return findings


def _primary_first(call: CallText, taxonomy: Taxonomy, evidence: np.ndarray, probs: np.ndarray,
                   threshold: float, max_reasons: int) -> list[str]:
    """Codes at the threshold or above (or at a code's own ``min_score``, when higher), strongest first,
    less those another found code rules out (a disputed charge is not also a plain bill question), with
    the reason stated in the opening at the front, added if the head put it below its bar, unless a found
    code ``precedes`` it."""
    codes = list(taxonomy.reasons)
    order = [int(i) for i in np.argsort(-probs)]
    needs = np.array([max(threshold, code.min_score) for code in taxonomy.reasons.values()])
    found = [codes[i] for i in order if probs[i] >= needs[i]] or [_likeliest(call, taxonomy, probs, order)]
    ruled_out = {other for code in found for other in taxonomy.reasons[code].excludes}
    chosen = [code for code in found if code not in ruled_out][:max_reasons]
    # what the customer says first is a reason of the call even when the head is unsure of it
    # (Whisper mishears the words that would make it sure); codes of another industry have no chance
    unsure = [codes[i] for i in order if UNSURE_PRIMARY_FLOOR < probs[i] < needs[i]
              and codes[i] not in ruled_out]
    primary = _opening_reason(call, taxonomy, evidence, probs, chosen + unsure)
    # a charge disputed, then the subscription behind it cancelled: the taxonomy says which leads
    primary = next((code for code in chosen if primary in taxonomy.reasons[code].precedes), primary)
    if primary not in chosen:
        chosen = chosen[: max_reasons - 1]
    return [primary] + [c for c in chosen if c != primary]


def _likeliest(call: CallText, taxonomy: Taxonomy, probs: np.ndarray, order: list[int]) -> str:
    """The reason of a call where none reaches its bar: the likeliest, or the taxonomy's default reason
    when nothing at all is said for any (a question about goods in words no cue knows)."""
    codes = list(taxonomy.reasons)
    default = taxonomy.default_reason
    industry = call.meta.get("industry")
    if (default is not None and probs[order[0]] < NOTHING_SAID
            and taxonomy.reasons[default].applies_to(industry)):
        return default
    return next((codes[i] for i in order if taxonomy.reasons[codes[i]].applies_to(industry)), codes[order[0]])


def _opening_reason(call: CallText, taxonomy: Taxonomy, evidence: np.ndarray, probs: np.ndarray,
                    chosen: list[str]) -> str:
    """The reason the customer states first (outbound calls: the case the agent follows up, else the
    product offered; a customer whose opening words name none: the self-service menu they chose)."""
    codes = list(taxonomy.reasons)
    case = follow_up_turn(call, taxonomy)
    if case is not None:   # a follow-up of the customer's own case is about that case
        named = [(evidence[case, codes.index(c)], c) for c in chosen if evidence[case, codes.index(c)] > 0]
        if named:
            return max(named)[1]
    if call.meta.get("direction") == "outbound" and taxonomy.outbound_reason in chosen:
        return taxonomy.outbound_reason
    opening = [t.index for t in call.turns if t.role == "customer"][:OPENING_TURNS]
    for index in opening:
        row = evidence[index]
        candidates = [(row[codes.index(c)] * (0.5 + probs[codes.index(c)]), c) for c in chosen
                      if row[codes.index(c)] >= MIN_TURN_EVIDENCE]
        if candidates:
            return max(candidates)[1]
        if len(call.turns[index].text) >= STORY_CHARS:
            break
    # the opening words carry no reason (Whisper lost them: 提额 heard as 提伦): the menu the caller chose
    menus = path_evidence(call, taxonomy)
    named = [c for c in chosen if menus[codes.index(c)] > 0]
    return named[0] if named else chosen[0]


def _owners(call: CallText, chosen: list[str], columns: list[int], evidence: np.ndarray) -> list[str]:
    """For each turn, the chosen reason it belongs to."""
    strongest: list[int | None] = []
    for index in range(len(call.turns)):
        row = evidence[index, columns]
        strongest.append(int(np.argmax(row)) if row.max() >= MIN_TURN_EVIDENCE else None)
    current = 0  # before anything is said about a reason, the call is about the primary one
    owners = []
    for owner in strongest:
        current = owner if owner is not None else current
        owners.append(current)
    for k in range(len(columns)):  # a chosen reason with no turn of its own keeps its evidence turns
        if k not in owners:
            for index in np.nonzero(evidence[:, columns[k]] >= MIN_TURN_EVIDENCE)[0]:
                owners[int(index)] = k
    return [chosen[k] for k in owners]
