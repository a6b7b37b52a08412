"""Review and appeal (复核/申诉) of QA findings, and analyses with the reviewed QA result applied.

A finding is named ``<rule>@<turn>`` (``-`` for a finding without a turn). Every step is a
``ReviewEvent`` row, only ever added: ``review`` (a QA reviewer's right / wrong, with an optional
score adjustment), ``appeal`` (the agent's comment), ``ruling`` (a senior reviewer's final right /
wrong, allowed only while an appeal is open), and ``score`` (a per-call adjustment, finding ``*``).

What the events amount to:
- a finding's verdict is the ruling if there is one, else the latest review, else the machine's;
- a finding finally judged ``wrong`` is removed and its points are given back (the scorecard is
  recomputed from the remaining findings, so removing the only fatal finding lifts the 0);
- score adjustments are points added to the call's score (±): the latest review's adjustment of each
  finding that stands, plus the latest per-call adjustment; a re-review or a new per-call adjustment
  replaces the earlier one. A call with a fatal finding standing scores 0 whatever the adjustments;
  the result is kept within 0..100.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import ConfigFile, ReviewEvent

VERDICTS = ("right", "wrong")
CALL_LEVEL = "*"  # finding and rule of a per-call score adjustment
STATES = ("machine", "reviewed_right", "reviewed_wrong", "appealed", "upheld", "overturned")


class ReviewConflict(ValueError):
    """A step that the finding's current state does not allow (409)."""


def finding_id(violation: dict[str, Any]) -> str:
    """``<rule>@<turn>`` of a QA violation entry (``-`` when it has no turn)."""
    turn = violation.get("turn")
    return f"{violation.get('rule')}@{'-' if turn is None else turn}"


def findings_of(analysis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The QA findings of an analysis by finding id, in the analysis's order."""
    qa = analysis.get("qa") or {}
    return {finding_id(v): v for v in qa.get("violations") or [] if v.get("rule")}


@dataclass(frozen=True, slots=True)
class Thread:
    """What the events of one finding amount to."""

    state: str = "machine"
    verdict: str | None = None  # the final word so far: ruling, else latest review; None: machine only
    adjustment: float | None = None  # the latest review's score adjustment
    appeal_open: bool = False
    ruled: bool = False


def thread_of(events: Iterable[ReviewEvent]) -> Thread:
    """The state of a finding from its events (in the order they were added)."""
    review = ruling = None
    appeal_open = False
    for e in sorted(events, key=lambda e: e.id):
        if e.action == "review":
            review = e
        elif e.action == "appeal":
            appeal_open = True
        elif e.action == "ruling":
            ruling, appeal_open = e, False
    if ruling is not None:
        state = "upheld" if ruling.verdict == "right" else "overturned"
    elif appeal_open:
        state = "appealed"
    elif review is not None:
        state = f"reviewed_{review.verdict}"
    else:
        state = "machine"
    verdict = ruling.verdict if ruling is not None else review.verdict if review is not None else None
    return Thread(state, verdict, review.score_adjustment if review is not None else None, appeal_open,
                  ruling is not None)


def events_for(session: Session, call_ids: Iterable[str]) -> dict[str, list[ReviewEvent]]:
    """Every review event of these calls, by call id, oldest first."""
    ids = list(dict.fromkeys(call_ids))
    out: dict[str, list[ReviewEvent]] = defaultdict(list)
    for start in range(0, len(ids), 500):  # stay far below the database's bound-parameter limit
        chunk = ids[start:start + 500]
        rows = session.scalars(select(ReviewEvent).where(ReviewEvent.call_id.in_(chunk)).order_by(ReviewEvent.id))
        for e in rows:
            out[e.call_id].append(e)
    return dict(out)


def by_finding(events: Iterable[ReviewEvent]) -> dict[str, list[ReviewEvent]]:
    """Events grouped by finding id (the per-call adjustments under ``*``)."""
    out: dict[str, list[ReviewEvent]] = defaultdict(list)
    for e in events:
        out[e.finding].append(e)
    return dict(out)


def add_step(session: Session, call_id: str, finding: str, rule: str, action: str, actor: str, *,
             verdict: str | None = None, score_adjustment: float | None = None,
             comment: str | None = None) -> ReviewEvent:
    """Add one step to a finding's thread after checking the thread allows it (``ReviewConflict``):
    no review or appeal after a final ruling, one open appeal at a time, a ruling only on an open appeal."""
    if action in ("review", "appeal", "ruling"):
        thread = thread_of(session.scalars(select(ReviewEvent).where(
            ReviewEvent.call_id == call_id, ReviewEvent.finding == finding)))
        if thread.ruled and action != "ruling":
            raise ReviewConflict(f"finding {finding!r} has a final ruling ({thread.state}); no further {action}")
        if action == "appeal" and thread.appeal_open:
            raise ReviewConflict(f"finding {finding!r} already has an open appeal awaiting a ruling")
        if action == "ruling" and not thread.appeal_open:
            raise ReviewConflict(f"finding {finding!r} has no open appeal to rule on (state: {thread.state})")
    event = ReviewEvent(call_id=call_id, finding=finding, rule=rule, action=action, verdict=verdict,
                        score_adjustment=score_adjustment, comment=comment, actor=actor)
    session.add(event)
    session.flush()
    return event


def rule_dimensions(session: Session, book_name: str) -> dict[str, str] | None:
    """Rule id -> scorecard dimension of the rule book named ``book_name`` (the replaced version in
    force if there is one, else the bundled file); None if the book cannot be found or read."""
    from qa_rules.loader import RULEBOOK_DIR

    row = session.scalars(select(ConfigFile).where(ConfigFile.kind == "rulebook", ConfigFile.name == book_name)
                          .order_by(ConfigFile.id.desc()).limit(1)).first()
    try:
        if row is not None:
            text = row.content
        else:
            path = RULEBOOK_DIR / f"{book_name}.yaml"
            if not book_name.replace("_", "").replace("-", "").isalnum() or not path.is_file():
                return None
            text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        dims = list(data["scorecard"]["dimensions"]) if data.get("scorecard") else ["overall"]
        default = (data.get("scorecard") or {}).get("default_dimension") or dims[0]
        return {str(r["id"]): r.get("dimension") or default for r in data["rules"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, IndexError):
        return None


def reviewed_qa(qa: dict[str, Any], events: list[ReviewEvent],
                dimension_of: dict[str, str] | None = None) -> dict[str, Any]:
    """The QA block with the reviewed result: wrong findings removed, scorecard recomputed (exactly,
    when every rule's dimension is known; otherwise each removed finding's points are given back on
    the total), score adjustments added, ``reviewed: true`` and a ``review`` summary."""
    threads = {f: thread_of(evs) for f, evs in by_finding(events).items() if f != CALL_LEVEL}
    call_level = [e for e in events if e.finding == CALL_LEVEL and e.action == "score"]
    violations = list(qa.get("violations") or [])
    kept, removed = [], []
    for v in violations:
        thread = threads.get(finding_id(v), Thread())
        (removed if thread.verdict == "wrong" else kept).append({**v, "review_state": thread.state})
    adjustment = sum(threads[finding_id(v)].adjustment or 0.0 for v in kept if finding_id(v) in threads)
    if call_level:
        adjustment += max(call_level, key=lambda e: e.id).score_adjustment or 0.0
    dims, base = _rescore(qa, kept, removed, dimension_of or {})
    fatal = any(v.get("fatal") for v in kept)
    score = 0 if fatal else round(min(100.0, max(0.0, base + adjustment)))
    return {**qa, "violations": kept, "dimensions": dims, "score": score, "fatal": fatal, "reviewed": True,
            "review": {"machine_score": qa.get("score"), "machine_fatal": bool(qa.get("fatal")),
                       "removed": [finding_id(v) for v in removed], "adjustment": adjustment}}


def _rescore(qa: dict[str, Any], kept: list[dict], removed: list[dict],
             dimension_of: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Dimension scores and the 0-100 total (before fatal and adjustments) of the kept findings."""
    dims = qa.get("dimensions") or {}
    total_weight = sum(float(d.get("weight") or 0) for d in dims.values())
    if not total_weight:  # no scorecard: one 100-point dimension
        return dims, 100.0 - sum(_signed(v) for v in kept)
    exact = all(dimension_of.get(v.get("rule")) in dims for v in kept + removed)
    if exact:
        moved = dict.fromkeys(dims, 0.0)
        for v in kept:
            moved[dimension_of[v["rule"]]] -= _signed(v)
        new = {}
        for key, d in dims.items():
            weight = float(d.get("weight") or 0)
            new[key] = {**d, "score": round(min(weight, max(0.0, weight + moved[key])), 2)}
        return new, 100 * sum(d["score"] for d in new.values()) / total_weight
    base = 100 * sum(float(d.get("score") or 0) for d in dims.values()) / total_weight
    return dims, base + sum(_signed(v) for v in removed) * 100 / total_weight


def _signed(violation: dict[str, Any]) -> float:
    """Points a finding took off the score (negative for a bonus)."""
    points = float(violation.get("points") or 0)
    return -points if violation.get("effect") == "add" else points


def reviewed_analyses(session: Session, analyses: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The analyses by call id with each call's QA block replaced by the reviewed result where there
    is one (findings judged wrong removed, score adjusted); unreviewed calls are returned as they are."""
    events = events_for(session, analyses)
    books: dict[str, dict[str, str] | None] = {}
    out = {}
    for call_id, analysis in analyses.items():
        qa = analysis.get("qa")
        if not qa or call_id not in events:
            out[call_id] = analysis
            continue
        name = str(qa.get("rulebook") or "")
        if name not in books:
            books[name] = rule_dimensions(session, name) if name else None
        out[call_id] = {**analysis, "qa": reviewed_qa(qa, events[call_id], books[name])}
    return out


def agreement(session: Session) -> list[dict[str, Any]]:
    """Per rule: findings reviewed, confirmed (right) and rejected by the reviewer (latest review of
    each finding), agreement = confirmed / reviewed; appeals and rulings that overturned; worst first."""
    latest: dict[tuple[str, str], ReviewEvent] = {}
    appealed: dict[str, set] = defaultdict(set)
    overturned: dict[str, set] = defaultdict(set)
    for e in session.scalars(select(ReviewEvent).where(ReviewEvent.finding != CALL_LEVEL).order_by(ReviewEvent.id)):
        key = (e.call_id, e.finding)
        if e.action == "review":
            latest[key] = e
        elif e.action == "appeal":
            appealed[e.rule].add(key)
        elif e.action == "ruling":
            (overturned[e.rule].add if e.verdict == "wrong" else overturned[e.rule].discard)(key)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in latest.values():
        counts[e.rule][0] += 1
        counts[e.rule][1] += e.verdict == "right"
    rows = [{"rule": rule, "reviewed": n, "confirmed": ok, "rejected": n - ok, "agreement": round(ok / n, 4),
             "appealed": len(appealed[rule]), "overturned": len(overturned[rule])}
            for rule, (n, ok) in counts.items()]
    return sorted(rows, key=lambda r: (r["agreement"], -r["reviewed"], r["rule"]))
