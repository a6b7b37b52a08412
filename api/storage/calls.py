"""Calls in the database: storing an analysis (with its filter tags and search terms) and reading it
back: filtered, searched and paged lists, analyses for reports, and what a caller without PII rights sees."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.storage.models import Call, CallTag, CallTerm


def call_tags(analysis: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, value) facts lists filter on: reason codes, QA violation codes, competitor brands, lead product."""
    tags = {("reason", r["code"]) for r in analysis.get("reasons") or []}
    for v in (analysis.get("qa") or {}).get("violations") or []:
        code = v.get("code") or v.get("rule")
        if code:
            tags.add(("violation", code))
    tags |= {("competitor", c["brand"]) for c in analysis.get("competitors") or [] if c.get("brand")}
    lead = analysis.get("lead") or {}
    if lead.get("intent", "none") != "none":
        tags.add(("lead", lead.get("product") or "?"))
    return tags


def search_terms(analysis: dict[str, Any]) -> set[str]:
    """Distinct jieba words of the transcript (masked text where PII was found), for full-text search."""
    from nlp.text import words

    terms: set[str] = set()
    for turn in analysis.get("turns") or []:
        text = turn.get("masked_text") or turn.get("text") or ""
        terms |= {w.strip().lower() for w in words(text) if w.strip() and not _punctuation(w)}
    return {t[:100] for t in terms}


def _punctuation(word: str) -> bool:
    return all(not ch.isalnum() for ch in word)


def save_analysis(session: Session, analysis: dict[str, Any], *, job_id: int | None = None,
                  audio_path: str | None = None) -> Call:
    """Insert or replace the call of ``analysis`` with its tags and search terms."""
    call_id = analysis["call_id"]
    started = _when(analysis.get("started_at"))
    lead = analysis.get("lead") or {}
    risk = analysis.get("complaint_risk") or {}
    qa = analysis.get("qa") or {}
    reasons = analysis.get("reasons") or []
    session.execute(delete(CallTag).where(CallTag.call_id == call_id))
    session.execute(delete(CallTerm).where(CallTerm.call_id == call_id))
    call = session.get(Call, call_id) or Call(call_id=call_id)
    call.job_id = job_id if job_id is not None else call.job_id
    call.started_at = started
    call.day = str(analysis.get("started_at"))[:10] if analysis.get("started_at") else None
    call.direction = analysis.get("direction")
    call.industry = analysis.get("industry")
    call.queue = analysis.get("queue")
    call.agent_id = analysis.get("agent_id")
    call.customer_id = analysis.get("customer_id")
    call.duration_s = analysis.get("duration_s")
    call.primary_reason = reasons[0]["code"] if reasons else None
    call.risk_score = risk.get("score")
    call.qa_score = qa.get("score")
    call.lead_intent = lead.get("intent")
    call.audio_path = audio_path if audio_path is not None else call.audio_path
    call.analysis = analysis
    session.add(call)
    session.flush()
    session.add_all(CallTag(call_id=call_id, kind=k, value=v[:200]) for k, v in sorted(call_tags(analysis)))
    session.add_all(CallTerm(call_id=call_id, term=t) for t in sorted(search_terms(analysis)))
    return call


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# --- reading calls: filters, search, paging ---------------------------------------------------------

SORTABLE = ("started_at", "risk_score", "qa_score", "duration_s")
REVIEW_STATES = ("none", "reviewed", "appealed", "ruled")
SNIPPET_CONTEXT = 24  # characters shown either side of a search hit
SNIPPETS_PER_CALL = 3
MAX_WORDS = 2000  # transcript words containing a search word passed to the database as a list


@dataclass(slots=True)
class CallFilters:
    """What ``GET /api/calls`` filters on; None means "any". Dates are call days (YYYY-MM-DD)."""

    date_from: str | None = None
    date_to: str | None = None
    agent: str | None = None
    queue: str | None = None
    reason: str | None = None
    violation: str | None = None
    risk_min: float | None = None
    competitor: str | None = None
    lead: str | None = None  # a product, or "any" for every call with a lead
    direction: str | None = None
    review: str | None = None  # one of REVIEW_STATES
    q: str | None = None


@dataclass(slots=True)
class CallRow:
    """One call of a list page: the stored columns plus its tags (and search snippets)."""

    call_id: str
    started_at: str | None
    day: str | None
    agent_id: str | None
    customer_id: str | None
    queue: str | None
    direction: str | None
    duration_s: float | None
    primary_reason: str | None
    risk_score: float | None
    qa_score: float | None
    lead_intent: str | None
    tags: dict[str, list[str]] = field(default_factory=dict)
    snippets: list[dict[str, Any]] = field(default_factory=list)


def _word_terms(text: str) -> list[str]:
    """The jieba words of ``text`` as search terms (lower case, punctuation dropped), in order."""
    from nlp.text import words

    seen: dict[str, None] = {}
    for w in words(text):
        term = w.strip().lower()
        if term and not _punctuation(term):
            seen.setdefault(term[:100], None)
    return list(seen)


def query_terms(q: str) -> list[str]:
    """The words a search must find: the query normalised like transcripts (NFKC, simplified) and
    segmented with jieba exactly as ``search_terms`` segments them."""
    from nlp.text import normalise

    return _word_terms(normalise(q))


def _term_condition(session: Session, term: str):
    """Calls with a transcript word containing ``term`` (one character: that word exactly). Containing,
    not equal, because jieba does not always cut a transcript as it cuts the query (这个月话费 gives
    月话费, so a search for 话费 must look inside words). The words containing ``term`` are found among
    the distinct words first (``vocabulary``: one index seek per distinct word, not a scan of every
    row); the calls are then found through the term index by exact word."""
    if len(term) < 2:
        words: Any = [term]
    else:
        vocabulary = _vocabulary()
        containing = select(vocabulary.c.term).where(vocabulary.c.term.contains(term, autoescape=True))
        words = list(session.scalars(containing.limit(MAX_WORDS + 1)))
        if len(words) > MAX_WORDS:  # too many to pass as parameters: let the database run the scan inline
            words = containing.scalar_subquery()
    return Call.call_id.in_(select(CallTerm.call_id).where(CallTerm.term.in_(words)))


def _vocabulary():
    """The distinct words of ``call_terms`` as a recursive CTE (column ``term``) that walks the term
    index from word to next word: a seek per distinct word instead of reading each of the millions of
    (call, word) rows as ``SELECT DISTINCT`` does (10,000 calls: 7 ms instead of 100 ms). Works on
    SQLite and PostgreSQL alike."""
    first = select(func.min(CallTerm.term).label("term")).cte("vocabulary", recursive=True)
    following = select(func.min(CallTerm.term)).where(CallTerm.term > first.c.term).scalar_subquery()
    step = select(following.label("term")).where(first.c.term.is_not(None))
    vocabulary = first.union_all(step)
    return select(vocabulary.c.term).where(vocabulary.c.term.is_not(None)).subquery("words")


def _tag_condition(kind: str, value: str | None = None):
    where = [CallTag.kind == kind] + ([CallTag.value == value] if value is not None else [])
    return Call.call_id.in_(select(CallTag.call_id).where(*where))


def _review_condition(state: str):
    """Calls by review state (``ReviewEvent`` rows): none (no review step at all), reviewed (a reviewer
    judged a finding or adjusted the score), appealed (an appeal no ruling has answered yet), ruled."""
    from sqlalchemy.orm import aliased

    from api.storage.models import ReviewEvent

    def having(*actions: str):
        return Call.call_id.in_(select(ReviewEvent.call_id).where(ReviewEvent.action.in_(actions)))

    if state == "none":
        return Call.call_id.not_in(select(ReviewEvent.call_id))
    if state == "reviewed":
        return having("review", "score")
    if state == "ruled":
        return having("ruling")
    if state == "appealed":
        appeal, ruling = aliased(ReviewEvent), aliased(ReviewEvent)
        answered = select(ruling.id).where(ruling.call_id == appeal.call_id, ruling.finding == appeal.finding,
                                           ruling.action == "ruling", ruling.id > appeal.id).exists()
        return Call.call_id.in_(select(appeal.call_id).where(appeal.action == "appeal", ~answered))
    raise ValueError(f"review state {state!r} is not one of {', '.join(REVIEW_STATES)}")


def call_conditions(session: Session, filters: CallFilters) -> list:
    """SQL conditions on ``Call`` for ``filters`` (all must hold). A ``q`` with no searchable word
    raises ``ValueError``."""
    f = filters
    where: list = []
    if f.date_from:
        where.append(Call.day >= f.date_from)
    if f.date_to:
        where.append(Call.day <= f.date_to)
    for column, value in ((Call.agent_id, f.agent), (Call.queue, f.queue), (Call.direction, f.direction)):
        if value is not None:
            where.append(column == value)
    if f.risk_min is not None:
        where.append(Call.risk_score >= f.risk_min)
    for kind, value in (("reason", f.reason), ("violation", f.violation), ("competitor", f.competitor)):
        if value is not None:
            where.append(_tag_condition(kind, value))
    if f.lead is not None:
        where.append(_tag_condition("lead", None if f.lead == "any" else f.lead))
    if f.review is not None:
        where.append(_review_condition(f.review))
    if f.q is not None:
        terms = query_terms(f.q)
        if not terms:
            raise ValueError(f"search {f.q!r} has no word to look for")
        where.extend(_term_condition(session, t) for t in terms)
    return where


# the start time as the metadata wrote it (with its UTC offset, which an SQLite column drops)
ROW_COLUMNS = (Call.call_id, Call.analysis["started_at"].as_string().label("started_at"), Call.day,
               Call.agent_id, Call.customer_id, Call.queue, Call.direction, Call.duration_s, Call.primary_reason,
               Call.risk_score, Call.qa_score, Call.lead_intent)


def list_calls(session: Session, filters: CallFilters, *, sort: str = "started_at", descending: bool = True,
               page: int = 1, page_size: int = 50) -> tuple[int, list[CallRow]]:
    """One page of the calls matching ``filters`` and their total count. Calls without a value in the
    sort column come last either way; ties are broken by call id. Only list columns and tags are read."""
    if sort not in SORTABLE:
        raise ValueError(f"sort {sort!r} is not one of {', '.join(SORTABLE)}")
    where = call_conditions(session, filters)
    total = session.scalar(select(func.count()).select_from(Call).where(*where)) or 0
    column = getattr(Call, sort)
    order = [column.is_(None), column.desc() if descending else column.asc(),
             Call.call_id.desc() if descending else Call.call_id.asc()]
    # the page's ids first, then their columns: the start time comes out of the analysis JSON, which
    # must be read for the page only, not for every row the database sorts
    page_ids = list(session.scalars(select(Call.call_id).where(*where).order_by(*order)
                                    .offset((page - 1) * page_size).limit(page_size)))
    rows = {row.call_id: row for row in session.execute(select(*ROW_COLUMNS).where(Call.call_id.in_(page_ids)))}
    out = [CallRow(*rows[call_id]) for call_id in page_ids]
    tags = tags_of(session, [r.call_id for r in out])
    for row in out:
        row.tags = tags.get(row.call_id, {})
    return total, out


def tags_of(session: Session, call_ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """Tags of the given calls: call id -> kind -> sorted values."""
    found: dict[str, dict[str, list[str]]] = {}
    if not call_ids:
        return found
    rows = session.execute(select(CallTag.call_id, CallTag.kind, CallTag.value)
                           .where(CallTag.call_id.in_(call_ids)).order_by(CallTag.value)).all()
    for call_id, kind, value in rows:
        found.setdefault(call_id, {}).setdefault(kind, []).append(value)
    return found


def analyses_of(session: Session, call_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored analyses of the given calls, by call id."""
    if not call_ids:
        return {}
    return dict(session.execute(select(Call.call_id, Call.analysis).where(Call.call_id.in_(call_ids))).all())


def analyses_between(session: Session, first: str | None, last: str | None) -> dict[str, dict[str, Any]]:
    """Every stored analysis whose call day lies in [first, last] (either end open when None), by call
    id; only the analysis column is read, which is what reports need."""
    where = []
    if first:
        where.append(Call.day >= first)
    if last:
        where.append(Call.day <= last)
    return dict(session.execute(select(Call.call_id, Call.analysis).where(*where)).all())


def latest_day(session: Session, first: str | None = None, last: str | None = None) -> str | None:
    """The latest call day stored (within [first, last] when given), or None without calls."""
    where = [Call.day.is_not(None)]
    if first:
        where.append(Call.day >= first)
    if last:
        where.append(Call.day <= last)
    return session.scalar(select(func.max(Call.day)).where(*where))


# --- what a caller may see --------------------------------------------------------------------------


# fields never scrubbed for PII values: ids and metadata reports group by (a masked id would split a group)
METADATA = frozenset({"pii", "call_id", "agent_id", "customer_id", "started_at", "direction", "industry", "queue",
                      "model", "duration_s"})
_ENCODER = json.JSONEncoder(ensure_ascii=False)
PRUNE_DEPTH = 3  # levels of the analysis (from its fields down) where a part without PII is kept whole


def mask_pii(analysis: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``analysis`` fit for a caller without the right to see PII: each turn's text is its
    masked text, every PII value found is replaced by its mask wherever it appears in a text (quotes,
    evidence), and the PII spans keep their place and kind but lose the value."""
    spans = [p for p in analysis.get("pii") or [] if isinstance(p, dict)]
    values = sorted({(str(p["text"]), str(p.get("masked") or "*" * len(str(p["text"]))))
                     for p in spans if p.get("text")}, key=lambda pair: -len(pair[0]))

    secrets = [secret for secret, _ in values]
    # a part of the analysis whose JSON text holds no PII value has no string that does: it is kept as
    # it is instead of walked (10,000 calls: seconds). Values JSON would escape are always walked.
    prune = not any(ch in '"\\' or ord(ch) < 0x20 for secret in secrets for ch in secret)

    def clean(value: Any) -> bool:
        try:
            text = _ENCODER.encode(value)
        except (TypeError, ValueError, RecursionError):
            return False
        return not any(secret in text for secret in secrets)

    def scrub(value: Any, depth: int = PRUNE_DEPTH) -> Any:
        if isinstance(value, str):
            for secret, masked in values:
                value = value.replace(secret, masked)
            return value
        if prune and depth > 0 and isinstance(value, list | dict) and clean(value):
            return value
        if isinstance(value, list):
            return [scrub(v, depth - 1) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v, depth - 1) for k, v in value.items()}
        return value

    out = dict(analysis)
    turns = []
    for turn in analysis.get("turns") or []:
        turn = dict(turn)
        masked = turn.pop("masked_text", None)
        if masked is not None:
            turn["text"] = masked
        turns.append(turn)
    out["turns"] = turns
    if values:
        out = {k: (v if k in METADATA else scrub(v)) for k, v in out.items()}
    out["pii"] = [{k: v for k, v in p.items() if k != "text"} for p in spans]
    return out


def search_snippets(analysis: dict[str, Any], terms: list[str], *, context: int = SNIPPET_CONTEXT,
                    limit: int = SNIPPETS_PER_CALL) -> list[dict[str, Any]]:
    """Where the search terms occur in the transcript: up to ``limit`` turns, each with ``context``
    characters either side of its first hit and the offsets of the hits in that text (for highlighting).
    Give it the analysis as the caller sees it (masked or not)."""
    found = []
    for index, turn in enumerate(analysis.get("turns") or []):
        text = turn.get("text") or ""
        lowered = text.lower()
        hits = _merged(sorted({(m, m + len(t)) for t in terms for m in _occurrences(lowered, t)}))
        if not hits:
            continue
        start, end = max(0, hits[0][0] - context), min(len(text), hits[0][1] + context)
        shown = [(s - start, e - start) for s, e in hits if s >= start and e <= end]
        found.append({"turn": index, "role": turn.get("role"), "text": text[start:end],
                      "prefix": start > 0, "suffix": end < len(text),
                      "hits": [{"start": s, "end": e} for s, e in shown]})
        if len(found) >= limit:
            break
    return found


def _occurrences(text: str, term: str) -> list[int]:
    at, out = text.find(term), []
    while at >= 0 and term:
        out.append(at)
        at = text.find(term, at + len(term))
    return out


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones joined (信用 inside 信用卡 is one highlight)."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def report_records(session: Session, first: str | None, last: str | None, *, mask: bool) -> tuple[list, int]:
    """Report input for the calls of days [first, last]: each stored analysis with its reviewed QA result
    (``reviewed_analyses``), PII masked when ``mask``, as ``CallRecord`` sorted by start time; and how
    many stored analyses could not be read as records (skipped)."""
    from api.storage.reviews import reviewed_analyses
    from models.insights.calls import record_from_analysis

    analyses = reviewed_analyses(session, analyses_between(session, first, last))
    records, skipped = [], 0
    for analysis in analyses.values():
        try:
            records.append(record_from_analysis(mask_pii(analysis) if mask else analysis))
        except ValueError:
            skipped += 1
    records.sort(key=lambda r: (r.started_at is None, r.started_at.timestamp() if r.started_at else 0.0, r.call_id))
    return records, skipped
