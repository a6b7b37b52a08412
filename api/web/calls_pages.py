"""Pages: upload, the call list (filters, search with highlighted hits, sorting, paging) and one call
(player, transcript with findings on their turns, timeline, score card, review and appeal).

Rendered on the server from ``api.storage`` with the API's access rules: agents see only their own
calls, PII is masked unless the user may see it. Review steps and uploads go through the API from
the page's script (``/static/web/calls.js``), so there is one place where writes are checked and audited.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import distinct, select

from api.auth import Principal
from api.storage.calls import (
    REVIEW_STATES,
    SORTABLE,
    CallFilters,
    analyses_of,
    list_calls,
    mask_pii,
    query_terms,
    search_snippets,
)
from api.storage.models import Call, CallTag
from api.storage.reviews import reviewed_analyses
from api.web.i18n import translator
from api.web.pages import PageUser, language, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FILTER_FIELDS = ("date_from", "date_to", "agent", "queue", "reason", "violation", "risk_min", "competitor", "lead",
                 "review", "q")
MIN_SILENCE_S = 3.0  # gaps between turns shown as dead air when the analysis has no acoustic spans
MIN_OVERLAP_S = 0.3


# --- names of codes --------------------------------------------------------------------------------


def code_names(request: Request) -> dict[str, dict[str, str]]:
    """Names of reason, script point and violation codes from the taxonomy in force (codes show as
    themselves when the taxonomy cannot be read), and of lead intents and competitor dimensions."""
    from api.storage.config_files import taxonomy_in_force
    from nlp.taxonomy import TaxonomyError, load_taxonomy

    t = translator(language(request))
    words = {"intent": {k: t(f"intent_{k}") for k in ("high", "medium", "low")},
             "dimension": {k: t(f"compdim_{k}") for k in ("price", "product", "service", "network")}}
    try:
        tax = load_taxonomy(taxonomy_in_force(request.app.state.config))
    except (TaxonomyError, OSError):
        return {"reason": {}, "script_point": {}, "violation": {}, **words}
    return {"reason": {c: x.name for c, x in tax.reasons.items() if x.name},
            "script_point": {c: x.name for c, x in tax.script_points.items() if x.name},
            "violation": {c: x.name for c, x in tax.qa_violations.items() if x.name}, **words}


# --- upload ----------------------------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, who: PageUser) -> HTMLResponse:
    """Drag and drop files or a folder; per-file progress and job state come from the API."""
    config = request.app.state.config
    return render(request, "upload.html", who, can_upload=who.role in ("qa", "admin"),
                  allowed_types=config.allowed_types, max_mb=f"{config.max_upload_mb:g}")


# --- the call list ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ListQuery:
    """The list page's query string, read leniently: a bad value is dropped and named in ``problems``."""

    values: dict[str, str] = field(default_factory=dict)
    sort: str = "started_at"
    descending: bool = True
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, params) -> ListQuery:
        out = cls()
        for name in FILTER_FIELDS:
            value = (params.get(name) or "").strip()
            if value:
                out.values[name] = value[:200]
        if "risk_min" in out.values:
            try:
                risk = float(out.values["risk_min"])
                if not 0 <= risk <= 1:
                    raise ValueError
            except ValueError:
                out.problems.append(f"risk_min: {out.values.pop('risk_min')}")
        if out.values.get("review") and out.values["review"] not in REVIEW_STATES:
            out.problems.append(f"review: {out.values.pop('review')}")
        for day in ("date_from", "date_to"):
            text = out.values.get(day, "")
            if text and not (len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit()):
                out.problems.append(f"{day}: {out.values.pop(day)}")
        sort = params.get("sort") or "started_at"
        out.sort = sort if sort in SORTABLE else "started_at"
        out.descending = params.get("order", "desc") != "asc"
        try:
            out.page = max(1, min(1_000_000, int(params.get("page") or 1)))
        except ValueError:
            out.page = 1
        return out

    def filters(self, who: Principal) -> CallFilters:
        v = self.values
        agent = (who.agent_id or "") if who.role == "agent" else v.get("agent")  # "" matches no call
        return CallFilters(date_from=v.get("date_from"), date_to=v.get("date_to"), agent=agent, queue=v.get("queue"),
                           reason=v.get("reason"), violation=v.get("violation"),
                           risk_min=float(v["risk_min"]) if "risk_min" in v else None,
                           competitor=v.get("competitor"), lead=v.get("lead"), review=v.get("review"), q=v.get("q"))

    def link(self, **change: Any) -> str:
        """This list's URL with some parameters changed (None drops one)."""
        params: dict[str, Any] = {**self.values, "sort": self.sort, "order": "desc" if self.descending else "asc",
                                  "page": self.page}
        params.update(change)
        return "/calls?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    def sort_link(self, column: str) -> str:
        """Sort by ``column``; the current sort column flips its order."""
        descending = not self.descending if column == self.sort else True
        return self.link(sort=column, order="desc" if descending else "asc", page=1)


def highlighted(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """``text`` cut into (piece, css class) with the spans marked ('' for plain text); overlapping
    spans: the earlier one wins."""
    out, at = [], 0
    for start, end, css in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        if start > at:
            out.append((text[at:start], ""))
        out.append((text[start:end], css))
        at = end
    if at < len(text):
        out.append((text[at:], ""))
    return out


def filter_options(session, who: Principal) -> dict[str, list[str]]:
    """Values the list's drop-downs offer: agents and queues stored, and every tag value by kind."""
    options: dict[str, list[str]] = {}
    for name, column in (("agent", Call.agent_id), ("queue", Call.queue)):
        if name == "agent" and who.role == "agent":
            options[name] = [who.agent_id] if who.agent_id else []
            continue
        options[name] = sorted(v for v in session.scalars(select(distinct(column))) if v)
    for kind in ("reason", "violation", "competitor", "lead"):
        options[kind] = sorted(v for v in session.scalars(select(distinct(CallTag.value)).where(CallTag.kind == kind))
                               if v and v != "?")
    return options


def mmss(seconds: float | None) -> str:
    """Seconds as m:ss (h:mm:ss from an hour on); empty for None."""
    if seconds is None:
        return ""
    total = round(float(seconds))
    h, rest = divmod(total, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def page_numbers(page: int, pages: int) -> list[int | None]:
    """Page links to show: first, last and two either side of the current one (None: a gap)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


@router.get("/calls", response_class=HTMLResponse)
def calls_page(request: Request, who: PageUser) -> HTMLResponse:
    """The call list: filters, full-text search with hits marked, sortable columns, pages."""
    query = ListQuery.read(request.query_params)
    total, rows, terms = 0, [], []
    with request.app.state.db.session() as session:
        try:
            total, rows = list_calls(session, query.filters(who), sort=query.sort, descending=query.descending,
                                     page=query.page, page_size=PAGE_SIZE)
            terms = query_terms(query.values["q"]) if "q" in query.values else []
        except ValueError as exc:
            query.problems.append(str(exc))
        snippets: dict[str, list[dict[str, Any]]] = {}
        if terms and rows:
            analyses = analyses_of(session, [r.call_id for r in rows])
            for row in rows:
                seen = _as_seen_by(who, analyses.get(row.call_id) or {})
                snippets[row.call_id] = [
                    {**s, "pieces": highlighted(s["text"], [(h["start"], h["end"], "hit") for h in s["hits"]])}
                    for s in search_snippets(seen, terms)]
        options = filter_options(session, who)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return render(request, "calls_list.html", who, query=query, rows=rows, total=total, terms=terms,
                  snippets=snippets, options=options, names=code_names(request), pages=pages,
                  page_links=page_numbers(min(query.page, pages), pages), review_states=REVIEW_STATES, mmss=mmss)


# --- one call --------------------------------------------------------------------------------------


def _as_seen_by(who: Principal, analysis: dict[str, Any]) -> dict[str, Any]:
    return analysis if who.see_pii else mask_pii(analysis)


def _runs(indexes: list[int]) -> list[int]:
    """The first index of each run of consecutive indexes (where a reason's badge goes)."""
    ordered = sorted(set(indexes))
    return [i for n, i in enumerate(ordered) if n == 0 or ordered[n - 1] != i - 1]


def turn_badges(analysis: dict[str, Any], qa: dict[str, Any] | None, names: dict[str, dict[str, str]]):
    """Per turn: the findings that sit on it (badges), the css classes of its stripe, and the findings
    panel entries (each pointing at a turn)."""
    n = len(analysis.get("turns") or [])
    badges: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    stripes: list[set[str]] = [set() for _ in range(n)]
    panel: list[dict[str, Any]] = []

    def put(turn: Any, badge: dict[str, Any]) -> None:
        if isinstance(turn, int) and 0 <= turn < n:
            badges[turn].append(badge)

    for reason in analysis.get("reasons") or []:
        label = names["reason"].get(reason.get("code"), reason.get("code"))
        turns = [t for t in reason.get("turns") or [] if isinstance(t, int) and 0 <= t < n]
        for t in turns:
            stripes[t].add("reason")
        for t in _runs(turns):
            put(t, {"kind": "reason", "label": label})
        panel.append({"kind": "reason", "label": label, "turn": turns[0] if turns else None,
                      "detail": f"{reason.get('score', 0):.2f}" if reason.get("score") is not None else ""})
    for point in analysis.get("script_points") or []:
        label = names["script_point"].get(point.get("point"), point.get("point"))
        put(point.get("turn"), {"kind": "script", "label": label})
        panel.append({"kind": "script", "label": label, "turn": point.get("turn"),
                      "detail": f"{point.get('score', 0):.2f}" if point.get("score") is not None else ""})
    for comp in analysis.get("competitors") or []:
        label = f"{comp.get('brand') or comp.get('mention')}"
        put(comp.get("turn"), {"kind": "competitor", "label": label})
        panel.append({"kind": "competitor", "label": label, "turn": comp.get("turn"),
                      "detail": " · ".join(str(x) for x in (comp.get("mention"), names["dimension"].get(
                          comp.get("dimension"), comp.get("dimension"))) if x)})
    lead = analysis.get("lead") or {}
    if lead.get("intent") not in (None, "none"):
        intent = names["intent"].get(lead.get("intent"), lead.get("intent"))
        label = " · ".join(str(x) for x in (lead.get("product"), intent) if x)
        for t in lead.get("turns") or []:
            put(t, {"kind": "lead", "label": label})
        turns = lead.get("turns") or []
        panel.append({"kind": "lead", "label": label, "turn": turns[0] if turns else None,
                      "detail": f"{lead.get('score', 0):.2f}" if lead.get("score") is not None else ""})
    from api.storage.reviews import finding_id

    for v in (qa or {}).get("violations") or []:
        label = v.get("name") or names["violation"].get(v.get("code"), v.get("rule"))
        kind = "fatal" if v.get("fatal") else "qa"
        put(v.get("turn"), {"kind": kind, "label": label, "finding": finding_id(v)})
        if isinstance(v.get("turn"), int) and 0 <= v["turn"] < n:
            stripes[v["turn"]].add("qa")
        panel.append({"kind": kind, "label": label, "turn": v.get("turn"), "finding": finding_id(v),
                      "detail": v.get("evidence") or v.get("explanation") or ""})
    order = {"fatal": 0, "qa": 1, "reason": 2, "competitor": 3, "lead": 4, "script": 5}
    panel.sort(key=lambda f: order.get(f["kind"], 9))  # stable: each kind keeps the analysis's order
    return badges, stripes, panel


def turn_marks(turn_index: int, text: str, analysis: dict[str, Any], terms: list[str]) -> list[tuple[str, str]]:
    """The turn's text with competitor mentions and searched words marked."""
    spans: list[tuple[int, int, str]] = []
    for comp in analysis.get("competitors") or []:
        start, end = comp.get("char_start"), comp.get("char_end")
        if comp.get("turn") == turn_index and isinstance(start, int) and isinstance(end, int):
            spans.append((start, end, "comp"))
        elif comp.get("turn") == turn_index and comp.get("mention") and comp["mention"] in text:
            at = text.index(comp["mention"])
            spans.append((at, at + len(comp["mention"]), "comp"))
    lowered = text.lower()
    for term in terms:
        at = lowered.find(term)
        while at >= 0 and term:
            spans.append((at, at + len(term), "hit"))
            at = lowered.find(term, at + len(term))
    return highlighted(text, spans)


def timeline(analysis: dict[str, Any], duration: float) -> dict[str, Any]:
    """Turn, silence and overtalk spans as percentages of the call's length. Silence and overtalk come
    from the acoustics (what the VAD heard); without them, from the turns' times (``derived``)."""
    def pct(start: float, end: float) -> dict[str, float]:
        start, end = max(0.0, start), min(duration, end)
        return {"left": round(100 * start / duration, 3), "width": round(max(0.2, 100 * (end - start) / duration), 3),
                "start": round(start, 2), "end": round(end, 2)}

    turns = [(i, t) for i, t in enumerate(analysis.get("turns") or [])
             if isinstance(t.get("start"), int | float) and isinstance(t.get("end"), int | float)]
    rows = {"agent": [], "customer": []}
    for i, t in turns:
        rows.setdefault(t.get("role") or "other", []).append({**pct(t["start"], t["end"]), "turn": i})
    acoustics = analysis.get("acoustics") or {}
    silences, overlaps = acoustics.get("silences"), acoustics.get("overlaps")
    derived = silences is None and overlaps is None
    if derived:
        ordered = sorted((t["start"], t["end"], t.get("role")) for _, t in turns)
        silences, overlaps, reach = [], [], None
        for a, b in pairwise(ordered):
            reach = max(reach or a[1], a[1])
            if b[0] - reach >= MIN_SILENCE_S:
                silences.append({"start": reach, "end": b[0]})
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                if b[0] >= a[1]:
                    break
                if a[2] != b[2] and min(a[1], b[1]) - b[0] >= MIN_OVERLAP_S:
                    overlaps.append({"start": b[0], "end": min(a[1], b[1]), "who": b[2]})
    step = next((s for s in (5, 10, 15, 30, 60, 120, 300, 600, 1800) if duration / s <= 10), 3600)
    ticks = [{"left": round(100 * x / duration, 3), "label": mmss(x)} for x in range(0, int(duration) + 1, step)]
    return {"rows": rows, "derived": derived, "ticks": ticks,
            "silences": [pct(s["start"], s["end"]) for s in silences or [] if "start" in s and "end" in s],
            "overlaps": [{**pct(s["start"], s["end"]), "who": s.get("who")} for s in overlaps or []
                         if "start" in s and "end" in s],
            "silence_s": acoustics.get("silence_s"), "overlap_s": acoustics.get("overlap_s")}


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(call_id: str, request: Request, who: PageUser) -> HTMLResponse:
    """One call: player, transcript with findings on their turns, timeline, score card, review."""
    with request.app.state.db.session() as session:
        call = session.get(Call, call_id) if "\x00" not in call_id else None
        if call is None or not who.can_see_call(call.agent_id):
            status = 404 if call is None else 403
            response = render(request, "calls_error.html", who, status=status, call_id=call_id)
            response.status_code = status
            return response
        analysis = copy.deepcopy(call.analysis or {})
        reviewed = reviewed_analyses(session, {call_id: copy.deepcopy(analysis)}).get(call_id) or analysis
        has_audio, owner = bool(call.audio_path), call.agent_id
    seen = _as_seen_by(who, analysis)
    reviewed_qa = _as_seen_by(who, reviewed).get("qa")
    names = code_names(request)
    q = (request.query_params.get("q") or "").strip()[:200]
    terms = query_terms(q) if q else []
    badges, stripes, panel = turn_badges(seen, seen.get("qa"), names)
    turns = seen.get("turns") or []
    ends = [t.get("end") for t in turns if isinstance(t.get("end"), int | float)]
    duration = float(seen.get("duration_s") or max(ends, default=0.0) or 1.0)
    shown = [{"index": i, "role": t.get("role") or "other", "start": t.get("start"), "end": t.get("end"),
              "pieces": turn_marks(i, t.get("text") or "", seen, terms), "badges": badges[i],
              "stripes": sorted(stripes[i])} for i, t in enumerate(turns)]
    return render(request, "calls_detail.html", who, call=seen, call_id=call_id, turns=shown, panel=panel,
                  duration=duration, timeline=timeline(seen, duration), qa=seen.get("qa"),
                  score_qa=reviewed_qa if reviewed_qa and reviewed_qa.get("reviewed") else seen.get("qa"),
                  score_reviewed=bool(reviewed_qa and reviewed_qa.get("reviewed")),
                  audio_url=f"/api/calls/{call_id}/audio" if has_audio else None, names=names, q=q,
                  can_review=who.role in ("qa", "admin"), can_rule=who.role == "admin" or (who.role == "qa" and who.senior),
                  can_appeal=who.role == "agent" and owner == who.agent_id, mmss=mmss)
