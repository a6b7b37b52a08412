"""Pages: dashboards (the insight reports and QA scores), the daily risk and lead lists, and the rule
book / taxonomy editor with "try the edited book on a call before saving".

Dashboards and lists build the same reports as ``/api/reports`` (same roles, windows, reviewed QA
results and PII masking) and draw their ECharts options; the editor validates and saves through the
API (``/api/rulebooks``, ``/api/taxonomy``) and runs an unsaved book here (``POST /rules/try``).
"""

from __future__ import annotations

import math
import numbers
import tempfile
import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from api.auth import Principal
from api.reports import json_numbers
from api.routes.reports import REPORT_ROLES
from api.storage.calls import latest_day, mask_pii, report_records
from api.storage.models import Call, CallTag, ConfigFile, Job, ReviewEvent
from api.web.i18n import texts
from api.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)

# dashboard tabs in order: report name (as in /api/reports), the tables shown open (others folded)
TABS: dict[str, tuple[str, ...]] = {
    "voice": ("ranking",), "handle-time": ("reasons", "agents"), "script-map": ("points",),
    "competitors": ("brands",), "ivr": ("exit_nodes",), "qa": ("agents", "rules"),
}
ROLES = {**REPORT_ROLES, "qa": ("qa",)}  # QA scores and reviewer agreement stay with the QA team
LISTS = ("risk", "leads")
TABLE_ROWS = 200  # rows of a table shown on a page (downloads have all)
PERCENT = frozenset({"share", "primary_share", "previous_share", "success_rate", "failure_rate", "complaint_rate",
                     "share_of_calls", "agreement", "ci_low", "ci_high", "fatal_share", "base_rate", "change_pct",
                     "zero_out_share", "self_service_failure_share"})
EDITORS = ("qa",)  # roles that save rule books and the taxonomy (admin always), as PUT /api/...


def may_read(who: Principal, name: str) -> bool:
    """Whether ``who`` may see dashboard or list ``name`` (the API's report roles)."""
    return who.role == "admin" or who.role in ROLES[name]


# ------------------------------------------------------------------------------------------ formatting


def cell(value: Any, column: str = "") -> str:
    """A table cell as text: lists joined with '; ', rates as percentages, numbers rounded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, list | tuple):
        return "; ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return ""
        if column in PERCENT:
            return f"{number * 100:.1f}%"
        if abs(number) >= 100:
            return f"{number:.1f}".removesuffix(".0")
        return f"{number:.3f}".rstrip("0").rstrip(".")
    return str(value)


# a column left out of page tables when its more readable twin is there (downloads keep both)
TWINS = {"code": "reason", "label": "label_zh", "kind": "kind_zh", "from": "from_name", "to": "to_name"}


def visible(columns: list[str]) -> list[str]:
    """The columns a page table shows: codes hidden where the table has their names."""
    present = set(columns)
    return [c for c in columns if TWINS.get(c) not in present]


def wide(option: dict[str, Any]) -> bool:
    """Whether a chart needs the page's whole width: flows (Sankey) and long day-by-day trends."""
    series = option.get("series") or []
    series = series if isinstance(series, list) else [series]
    if any(isinstance(s, dict) and s.get("type") == "sankey" for s in series):
        return True
    axis = option.get("xAxis")
    axis = axis[0] if isinstance(axis, list) and axis else axis
    return isinstance(axis, dict) and axis.get("type") == "category" and len(axis.get("data") or []) > 14


def laid_out(charts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Charts two to a row, wide ones alone: the last half-width chart takes the whole row when it
    would otherwise stand alone beside an empty half."""
    halves = [c for c in charts if not c["wide"]]
    if len(halves) % 2:
        halves[-1]["wide"] = True
    return charts


def column_label(lang_t):
    """``col(name)``: the column's page text (``col_<name>`` in i18n.yaml), else the name itself."""
    def col(name: str) -> str:
        return lang_t(f"col_{name}") if f"col_{name}" in texts() else name
    return col


def _day(text: str | None) -> date | None:
    """A YYYY-MM-DD query value as a date; None when empty; ValueError naming it when bad."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(text) from None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# ------------------------------------------------------------------------------------------ reports


@dataclass(slots=True)
class Built:
    """A report as a page shows it: tables (rows and column order), charts, summary, notes, window."""

    name: str
    title: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    charts: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    window: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(slots=True)
class _Entry:
    stamp: tuple
    built: Built
    at: datetime  # when the data was read
    seconds: float  # how long the build took
    refreshing: bool = False


class _Cache:
    """Built reports by (report, window, masking), valid while the stored data has not changed
    (``data_stamp``). When it has changed and the report is slow to build (10,000 calls: seconds),
    the page gets the previous build at once, marked with its time, while one thread per report
    builds the new one; a quick report is simply rebuilt."""

    def __init__(self, size: int = 48) -> None:
        self.size = size
        self.items: OrderedDict[tuple, _Entry] = OrderedDict()
        self.building: dict[tuple, threading.Event] = {}  # reports being built now (first build only)
        self.lock = threading.Lock()

    def get(self, key: tuple) -> _Entry | None:
        with self.lock:
            entry = self.items.get(key)
            if entry is not None:
                self.items.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: _Entry) -> None:
        with self.lock:
            self.items[key] = entry
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def claim(self, key: tuple) -> bool:
        """Mark the report of ``key`` as being rebuilt; False if a rebuild is already running."""
        with self.lock:
            entry = self.items.get(key)
            if entry is None or entry.refreshing:
                return False
            entry.refreshing = True
            return True


CACHE = _Cache()
QUICK_BUILD_S = 0.3  # a report built faster than this is rebuilt while the page waits


@dataclass(slots=True)
class Shown:
    """A built report and whether it is older than the stored data (being rebuilt), and from when."""

    built: Built
    stale: bool
    at: datetime


def cached_build(app, key: tuple, make) -> Shown:
    """``make()`` (a ``Built``) through the cache: current, previous while rebuilding, or built now."""
    with app.state.db.session() as session:
        stamp = data_stamp(session)
    entry = CACHE.get(key)
    if entry is not None and entry.stamp == stamp:
        return Shown(entry.built, False, entry.at)
    if entry is not None and entry.seconds >= QUICK_BUILD_S:
        if CACHE.claim(key):
            threading.Thread(target=_rebuild, args=(key, stamp, make), daemon=True,
                             name=f"report-{key[0]}").start()
        return Shown(entry.built, True, entry.at)
    return _rebuild(key, stamp, make)


def _rebuild(key: tuple, stamp: tuple, make) -> Shown:
    """Build ``key`` now; a page asking for a report another thread is already building (the start-up
    warm-up, or a page a moment earlier) waits for that build instead of running a second one."""
    with CACHE.lock:
        running = CACHE.building.get(key)
        if running is None:
            done = CACHE.building[key] = threading.Event()
    if running is not None:
        running.wait(timeout=600)
        entry = CACHE.get(key)
        if entry is not None and entry.stamp == stamp:
            return Shown(entry.built, False, entry.at)
        return _build(key, stamp, make)
    try:
        return _build(key, stamp, make)
    finally:
        with CACHE.lock:
            CACHE.building.pop(key, None)
        done.set()


def _build(key: tuple, stamp: tuple, make) -> Shown:
    at, started = datetime.now().astimezone(), time.perf_counter()
    try:
        built = make()
    except Exception:
        entry = CACHE.get(key)
        if entry is not None:
            entry.refreshing = False
        raise
    if not built.error:
        CACHE.put(key, _Entry(stamp, built, at, time.perf_counter() - started))
    return Shown(built, False, at)


def warm(app) -> None:
    """Build the dashboards and lists as their pages first show them (default windows; masked for
    callers without PII rights, and not), so the first visitor after a start finds them built rather
    than waiting seconds (10,000 calls). Runs in a low-priority daemon thread started with the app;
    without calls stored there is nothing to build. ``app.state.warm`` turns True when done (the
    ``X-Callscope-Warm`` header of ``GET /api/health``)."""
    import logging
    import os

    try:  # Linux nice values are per thread: requests keep the CPU before the warm-up
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
    started = time.perf_counter()
    built = 0
    try:
        with app.state.db.session() as session:
            stamp = data_stamp(session)
        if stamp[0]:
            from api.storage.calls import query_terms

            query_terms("话费")  # loads jieba's dictionary, which the first search would otherwise wait for
            try:
                _warm_pages(app)
            except Exception:  # a template that does not compile shows on its page; the reports go on
                logging.getLogger(__name__).exception("page warm-up failed")
            shared: dict = {}  # the last report input read: the period reports read the same 30 days
            for mask in (True, False):
                for name in [*(t for t in TABS if t != "qa"), *LISTS]:
                    built += _warm_one(app, (name, None, None, None, mask), shared,
                                       lambda name=name, mask=mask: _make_report(app, name, mask, None, None, None,
                                                                                 shared=shared))
            shared.clear()
            built += _warm_one(app, ("qa", None, None), shared, lambda: _make_qa(app, None, None))
    except Exception:  # the pages build on demand as before; the warm-up must never stop the service
        logging.getLogger(__name__).exception("report warm-up failed")
    finally:
        app.state.warm = True
        logging.getLogger(__name__).info("report warm-up: %d built in %.1f s", built, time.perf_counter() - started)


def _warm_pages(app) -> None:
    """What every page's first showing pays once: templates compiled, page texts and the taxonomy
    in force read (the first call list: 450 ms without, 70 ms with)."""
    from api.storage.config_files import taxonomy_in_force
    from api.web.pages import TEMPLATES
    from nlp.taxonomy import TaxonomyError, load_taxonomy

    for name in TEMPLATES.env.list_templates(extensions=["html"]):
        TEMPLATES.env.get_template(name)
    texts()
    try:
        load_taxonomy(taxonomy_in_force(app.state.config))
    except (TaxonomyError, OSError):
        pass


def _warm_one(app, key: tuple, shared: dict, make) -> int:
    """Build ``key`` unless a current build is cached (a page may have asked first); 1 if built.
    ``shared`` (report input kept between builds) is emptied when the stored data has changed."""
    with app.state.db.session() as session:
        stamp = data_stamp(session)
    if shared.get("stamp") != stamp:
        shared.clear()
        shared["stamp"] = stamp
    entry = CACHE.get(key)
    if entry is not None and entry.stamp == stamp:
        return 0
    _rebuild(key, stamp, make)
    return 1


def data_stamp(session) -> tuple:
    """Changes whenever a call is stored or replaced, a review step is added or configuration is
    replaced; cheap (indexes and small tables only, never the analysis column)."""
    return (session.scalar(select(func.count()).select_from(Call)),
            session.scalar(select(func.max(CallTag.id))),
            session.scalar(select(func.max(Job.updated_at))),
            session.scalar(select(func.max(ReviewEvent.id))),
            session.scalar(select(func.max(ConfigFile.id))))


def build_report(request: Request, who: Principal, name: str, *, day: date | None = None,
                 first: date | None = None, last: date | None = None) -> Shown:
    """Report ``name`` as ``GET /api/reports/{name}`` builds it: ``day`` (default: the latest call day up
    to ``last``), calls of days first..last (default: what the report's arithmetic reads); cached."""
    app, mask = request.app, not who.see_pii
    return cached_build(app, (name, _iso(day), _iso(first), _iso(last), mask),
                        lambda: _make_report(app, name, mask, day, first, last))


def _make_report(app, name: str, mask: bool, day: date | None, first: date | None, last: date | None, *,
                 shared: dict | None = None) -> Built:
    """Report ``name`` built now. ``shared`` (the warm-up's): the input read for one window (and
    masking) is kept there and reused by the next report of the same window."""
    from api.reports import default_first_day, report_builders, risk_model_for
    from models.risk import RiskError

    config = app.state.config
    with app.state.db.session() as session:
        day_text = _iso(day) or latest_day(session, _iso(first), _iso(last))
        day = date.fromisoformat(day_text) if day_text else None
        first = first or (default_first_day(name, day) if day else None)
        last = last or day
        window_key = ("records", _iso(first), _iso(last), mask)
        if day is None:
            records, skipped = [], 0
        elif shared is not None and window_key in shared:
            records, skipped = shared[window_key]
        else:
            records, skipped = report_records(session, _iso(first), _iso(last), mask=mask)
            if shared is not None:  # one window kept at a time: 10,000 analyses are a lot of memory
                for old in [k for k in shared if k != "stamp"]:
                    del shared[old]
                shared[window_key] = (records, skipped)
    window = {"first": _iso(first), "last": _iso(last), "day": day_text, "calls": len(records), "skipped": skipped}
    try:
        options = {"dnd": config.extra.get("dnd"), "top": None,
                   "risk_model": risk_model_for(str(config.models) if config.models else None)}
        report = report_builders()[name](list(records), day, options)
    except (RiskError, ValueError) as exc:
        return Built(name, name, window=window, error=f"{name}: {exc}")
    return Built(
        name=report.name, title=report.title, tables={t.name: json_numbers(t.rows) for t in report.tables},
        columns={t.name: list(t.columns) for t in report.tables},
        charts=laid_out([{"title": c.title, "option": json_numbers(c.option), "height": c.height, "wide": wide(c.option)}
                         for c in report.charts]),
        summary=json_numbers(report.summary), notes=list(report.notes), window=window)


def build_qa(request: Request, who: Principal, *, first: date | None, last: date | None) -> Shown:
    """QA scores by agent and by rule over calls of days first..last (default: the 30 days ending at
    the latest call day), with each call's reviewed result, and reviewer agreement per rule; cached."""
    app = request.app
    return cached_build(app, ("qa", _iso(first), _iso(last)), lambda: _make_qa(app, first, last))


def _make_qa(app, first: date | None, last: date | None) -> Built:
    from api.reports import PERIOD_DAYS
    from api.storage.reviews import agreement, finding_id, reviewed_analyses

    with app.state.db.session() as session:
        day_text = latest_day(session, _iso(first), _iso(last))
        if day_text and first is None:
            first = date.fromordinal(date.fromisoformat(day_text).toordinal() - PERIOD_DAYS + 1)
        last = last or (date.fromisoformat(day_text) if day_text else None)
        where = [Call.qa_score.is_not(None)]
        if first:
            where.append(Call.day >= first.isoformat())
        if last:
            where.append(Call.day <= last.isoformat())
        # the QA block only: the database takes it out of the analysis, Python never parses the rest
        rows = session.execute(select(Call.call_id, Call.agent_id, Call.analysis["qa"]).where(*where)).all()
        machine = {call_id: {"qa": qa} for call_id, _, qa in rows if isinstance(qa, dict)}
        reviewed = reviewed_analyses(session, machine)
        agreed = {row["rule"]: row for row in agreement(session)}
    agents: dict[str, dict[str, Any]] = defaultdict(lambda: {"calls": 0, "scores": [], "fatal": 0, "findings": 0,
                                                             "reviewed": 0})
    rules: dict[str, dict[str, Any]] = {}
    agent_of = {call_id: agent for call_id, agent, _ in rows}
    for call_id, analysis in reviewed.items():
        qa = analysis["qa"]
        a = agents[agent_of.get(call_id) or "?"]
        a["calls"] += 1
        a["scores"].append(float(qa.get("score") or 0))
        a["fatal"] += bool(qa.get("fatal"))
        a["findings"] += len(qa.get("violations") or [])
        a["reviewed"] += bool(qa.get("reviewed"))
        kept = {finding_id(v) for v in qa.get("violations") or []}
        for v in machine[call_id]["qa"].get("violations") or []:
            rule = str(v.get("rule"))
            r = rules.setdefault(rule, {"rule": rule, "name": v.get("name"), "code": v.get("code"),
                                        "rulebooks": set(), "machine_findings": 0, "findings": 0, "calls": set(),
                                        "points": 0.0})
            r["rulebooks"].add(str(qa.get("rulebook") or ""))
            r["machine_findings"] += 1
            if finding_id(v) in kept:
                r["findings"] += 1
                r["calls"].add(call_id)
                r["points"] += float(v.get("points") or 0)
    agent_rows = []
    for agent, a in agents.items():
        scores = sorted(a["scores"])
        agent_rows.append({"agent_id": agent, "calls": a["calls"], "mean_score": sum(scores) / len(scores),
                           "median_score": scores[len(scores) // 2] if len(scores) % 2 else
                           (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2,
                           "min_score": scores[0], "fatal_calls": a["fatal"], "fatal_share": a["fatal"] / a["calls"],
                           "findings": a["findings"], "findings_per_call": a["findings"] / a["calls"],
                           "reviewed_calls": a["reviewed"]})
    agent_rows.sort(key=lambda r: (r["mean_score"], r["agent_id"]))
    rule_rows = []
    for rule in sorted(set(rules) | set(agreed)):
        r = rules.get(rule) or {"rule": rule, "name": None, "code": None, "rulebooks": set(), "machine_findings": 0,
                                "findings": 0, "calls": set(), "points": 0.0}
        g = agreed.get(rule) or {}
        rule_rows.append({"rule": rule, "name": r["name"], "code": r["code"], "rulebooks": sorted(r["rulebooks"]),
                          "machine_findings": r["machine_findings"], "findings": r["findings"],
                          "removed": r["machine_findings"] - r["findings"], "calls": len(r["calls"]),
                          "points": round(r["points"], 2), "reviewed": g.get("reviewed", 0),
                          "confirmed": g.get("confirmed", 0), "rejected": g.get("rejected", 0),
                          "agreement": g.get("agreement"), "appealed": g.get("appealed", 0),
                          "overturned": g.get("overturned", 0)})
    rule_rows.sort(key=lambda r: (-r["machine_findings"], r["rule"]))
    calls = sum(a["calls"] for a in agents.values())
    return Built(
        name="qa", title="质检得分与复核一致率 QA scores and reviewer agreement",
        tables={"agents": json_numbers(agent_rows), "rules": json_numbers(rule_rows)},
        columns={"agents": ["agent_id", "calls", "mean_score", "median_score", "min_score", "fatal_calls",
                            "fatal_share", "findings", "findings_per_call", "reviewed_calls"],
                 "rules": ["rule", "name", "rulebooks", "machine_findings", "findings", "removed", "calls", "points",
                           "reviewed", "confirmed", "agreement", "appealed", "overturned"]},
        charts=[_agent_chart(agent_rows), _rule_chart(rule_rows)],
        summary={"calls": calls, "agents": len(agent_rows),
                 "mean_score": round(sum(sum(a["scores"]) for a in agents.values()) / calls, 1) if calls else None,
                 "reviewed_calls": sum(a["reviewed"] for a in agents.values())},
        notes=[("Scores are each call's reviewed result (findings judged wrong removed, adjustments added); "
               "machine_findings counts what the rules found, findings what stands after review."),
               ("Reviewer agreement (reviewed / confirmed / agreement / appealed / overturned) covers every review "
               "ever made (GET /api/reviews/agreement), not only the calls of the window.")],
        window={"first": _iso(first), "last": _iso(last), "day": day_text, "calls": calls, "skipped": 0})


def _agent_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean QA score per agent (lowest first), with the calls behind each bar in the tooltip."""
    shown = rows[:40]
    height = max(240, 60 + 22 * len(shown))
    option = {
        "tooltip": {"trigger": "axis"}, "grid": {"left": 90, "right": 40, "top": 40, "bottom": 30},
        "legend": {"data": ["平均分 mean", "最低分 min"], "top": 0},
        "xAxis": {"type": "value", "min": 0, "max": 100},
        "yAxis": {"type": "category", "inverse": True, "data": [r["agent_id"] for r in shown]},
        "series": [{"name": "平均分 mean", "type": "bar", "data": [round(r["mean_score"], 1) for r in shown],
                    "label": {"show": True, "position": "right"}},
                   {"name": "最低分 min", "type": "scatter", "data": [r["min_score"] for r in shown]}],
    }
    return {"title": "坐席质检平均分（最低在上） mean QA score by agent", "option": option, "height": height}


def _rule_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Findings per rule (machine and standing after review) and the reviewers' agreement rate."""
    shown = [r for r in rows if r["machine_findings"] or r["reviewed"]][:30]
    labels = [f"{r['name'] or r['rule']}" for r in shown]
    option = {
        "tooltip": {"trigger": "axis"}, "legend": {"data": ["机器命中 machine", "复核后 standing", "一致率 agreement"]},
        "grid": {"left": 50, "right": 60, "top": 40, "bottom": 110},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"rotate": 40, "interval": 0}},
        "yAxis": [{"type": "value", "name": "条 findings", "minInterval": 1},
                  {"type": "value", "name": "一致率", "min": 0, "max": 1}],
        "series": [{"name": "机器命中 machine", "type": "bar", "data": [r["machine_findings"] for r in shown]},
                   {"name": "复核后 standing", "type": "bar", "data": [r["findings"] for r in shown]},
                   {"name": "一致率 agreement", "type": "line", "yAxisIndex": 1,
                    "data": [r["agreement"] for r in shown], "connectNulls": False}],
    }
    return {"title": "各规则命中与复核一致率 findings and reviewer agreement by rule", "option": option, "height": 420}


# ------------------------------------------------------------------------------------------ dashboards


def _forbidden(request: Request, who: Principal, message: str) -> HTMLResponse:
    response = render(request, "dash_forbidden.html", who, message=message)
    response.status_code = 403
    return response


def _page_context(request: Request, who: Principal) -> dict[str, Any]:
    from api.web.i18n import translator
    from api.web.pages import language
    from qa_rules.evidence import clock

    return {"cell": cell, "col": column_label(translator(language(request))), "clock": clock, "visible": visible}


@router.get("/dashboards", response_class=HTMLResponse)
def dashboards(request: Request, who: PageUser):
    """The first dashboard the user may read (agents have none)."""
    tabs = [tab for tab in TABS if may_read(who, tab)]
    if not tabs:
        return _forbidden(request, who, "dash_none")
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/dashboards/{tabs[0]}{query}", status_code=303)


@router.get("/dashboards/{tab}", response_class=HTMLResponse)
def dashboard(request: Request, tab: str, who: PageUser, date_from: str | None = None,
              date_to: str | None = None) -> HTMLResponse:
    """One dashboard: the report's charts, its main tables (others folded) over a window of call days."""
    if tab not in TABS:
        response = render(request, "dash_forbidden.html", who, message="dash_unknown")
        response.status_code = 404
        return response
    if not may_read(who, tab):
        return _forbidden(request, who, "dash_role")
    error = None
    try:
        first, last = _day(date_from), _day(date_to)
    except ValueError as exc:
        first = last = None
        error = f"bad_date:{exc}"
    if first and last and first > last:
        error, first, last = "date_order", None, None
    shown = build_qa(request, who, first=first, last=last) if tab == "qa" else \
        build_report(request, who, tab, first=first, last=last)
    built = shown.built
    response = render(request, "dash_page.html", who, tab=tab, tabs=[t for t in TABS if may_read(who, t)],
                      built=built, shown=shown, main=TABS[tab], date_from=date_from or "", date_to=date_to or "",
                      error=error, rows=TABLE_ROWS, **_page_context(request, who))
    if built.error:
        response.status_code = 503
    return response


# ------------------------------------------------------------------------------------------ lists


def _call_days(request: Request, limit: int = 120) -> list[str]:
    """The latest call days with calls stored, newest first (the list page's day picker)."""
    with request.app.state.db.session() as session:
        return list(session.scalars(select(Call.day).where(Call.day.is_not(None)).distinct()
                                    .order_by(Call.day.desc()).limit(limit)))


@router.get("/lists", response_class=HTMLResponse)
def lists(request: Request, who: PageUser, date: str | None = None) -> HTMLResponse:
    """The day's top-risk complaint list and lead list (as the user's role allows), with downloads."""
    shown = [name for name in LISTS if may_read(who, name)]
    if not shown:
        return _forbidden(request, who, "lists_role")
    error = None
    try:
        day = _day(date)
    except ValueError as exc:
        day, error = None, f"bad_date:{exc}"
    found = {name: build_report(request, who, name, day=day) for name in shown}
    built = {name: f.built for name, f in found.items()}
    stale = [f for f in found.values() if f.stale]
    days = _call_days(request)
    current = next((b.window.get("day") for b in built.values() if b.window.get("day")), None)
    return render(request, "lists_page.html", who, built=built, shown=stale[0] if stale else None, days=days,
                  day=current, error=error,
                  rows=TABLE_ROWS, **_page_context(request, who))


# ------------------------------------------------------------------------------------------ rules


def may_edit(who: Principal) -> bool:
    return who.role == "admin" or who.role in EDITORS


@router.get("/rules", response_class=HTMLResponse)
def rules(request: Request, who: PageUser) -> HTMLResponse:
    """The rule books in force (bundled, replaced or added) and the taxonomy, with their versions."""
    from api.storage.config_files import latest, rulebooks_listed

    with request.app.state.db.session() as session:
        books = [{"name": b.name, "source": b.source, "version": b.version, "updated_by": b.updated_by,
                  "updated_at": b.updated_at.strftime("%Y-%m-%d %H:%M") if b.updated_at else None}
                 for b in rulebooks_listed(session, request.app.state.config)]
        tax = latest(session, "taxonomy", "taxonomy")
        taxonomy = {"version": tax.id if tax else None, "updated_by": tax.updated_by if tax else None,
                    "updated_at": tax.updated_at.strftime("%Y-%m-%d %H:%M") if tax else None}
    return render(request, "rules_list.html", who, books=books, taxonomy=taxonomy)


def _recent_calls(request: Request, who: Principal, text: str, limit: int = 200) -> list[dict[str, Any]]:
    """Recent calls the user may see for the "try on a call" picker, those the book applies to first."""
    import yaml

    where = [Call.agent_id == who.agent_id] if who.role == "agent" else []
    with request.app.state.db.session() as session:
        rows = session.execute(select(Call.call_id, Call.day, Call.agent_id, Call.industry, Call.direction)
                               .where(*where).order_by(Call.started_at.desc()).limit(limit)).all()
    calls = [{"call_id": r[0], "day": r[1], "agent_id": r[2], "industry": r[3], "direction": r[4]} for r in rows]
    try:
        scope = (yaml.safe_load(text) or {}).get("applies_to") or {}
    except (yaml.YAMLError, AttributeError):
        scope = {}

    def fits(call: dict[str, Any]) -> bool:
        for key in ("direction", "industry"):
            allowed = scope.get(key) if isinstance(scope, dict) else None
            allowed = [allowed] if isinstance(allowed, str) else allowed
            if allowed and call[key] is not None and call[key] not in allowed:
                return False
        return True

    return sorted(calls, key=lambda c: not fits(c))


@router.get("/rules/book/{name}", response_class=HTMLResponse)
def rulebook_editor(request: Request, name: str, who: PageUser) -> HTMLResponse:
    """A rule book in a line-numbered editor: validate, save, try on a call before saving."""
    from api.storage.config_files import books_in_force

    books = books_in_force(request.app.state.config)
    if name not in books:
        response = render(request, "dash_forbidden.html", who, message="rules_unknown")
        response.status_code = 404
        return response
    text = books[name].read_text(encoding="utf-8")
    return render(request, "rules_edit.html", who, kind="rulebook", name=name, text=text, editable=may_edit(who),
                  calls=_recent_calls(request, who, text) if may_edit(who) else [])


@router.get("/rules/taxonomy", response_class=HTMLResponse)
def taxonomy_editor(request: Request, who: PageUser) -> HTMLResponse:
    """The taxonomy in force in the line-numbered editor: validate and save."""
    from api.storage.config_files import taxonomy_in_force

    text = taxonomy_in_force(request.app.state.config).read_text(encoding="utf-8")
    return render(request, "rules_edit.html", who, kind="taxonomy", name="taxonomy", text=text,
                  editable=may_edit(who), calls=[])


@router.post("/rules/try", response_class=HTMLResponse)
def try_rulebook(request: Request, who: PageUser, yaml_text: Annotated[str, Body(alias="yaml", max_length=2_000_000)],
                 call_id: Annotated[str, Body(max_length=200)],
                 rule: Annotated[str | None, Body(max_length=200)] = None) -> HTMLResponse:
    """Run an edited, unsaved rule book (YAML text) on a stored call's analysis: which rules fire, with
    their evidence, against what the stored analysis found. Nothing is saved. An HTML fragment."""
    def fragment(status: int, **context: Any) -> HTMLResponse:
        response = render(request, "rules_try.html", who, call_id=call_id, **context, **_page_context(request, who))
        response.status_code = status
        return response

    if not may_edit(who):
        return fragment(403, error="try_role")
    with request.app.state.db.session() as session:
        call = session.get(Call, call_id.strip()) if call_id.strip() and "\x00" not in call_id else None
        if call is None or not who.can_see_call(call.agent_id):
            return fragment(404, error="try_no_call")
        analysis = call.analysis or {}
    try:
        book, problems = _load_text_book(yaml_text, request.app.state.config)
    except RuntimeError as exc:
        return fragment(422, error="try_failed", detail=str(exc))
    if problems:
        return fragment(422, problems=problems)
    from qa_rules.engine import applicable, check_call
    from qa_rules.errors import RuleEvaluationError
    from qa_rules.view import view_from_analysis

    seen = analysis if who.see_pii else mask_pii(analysis)
    view = view_from_analysis(seen)
    if rule:
        if rule not in {r.id for r in book.rules}:
            return fragment(422, error="try_no_rule", detail=rule)
        book = replace(book, rules=tuple(r for r in book.rules if r.id == rule))
    try:
        result = check_call(book, view)
    except RuleEvaluationError as exc:
        return fragment(422, error="try_failed", detail=str(exc))
    stored = {str(v.get("rule")) for v in (analysis.get("qa") or {}).get("violations") or []}
    fired = []
    for v in result.violations:
        entry = v.to_dict(with_evidence=True)
        entry["was"] = v.rule.id in stored
        fired.append(entry)
    fired_ids = {v.rule.id for v in result.violations}
    quiet = [{"id": r.id, "name": r.name, "was": r.id in stored} for r in applicable(book, view.meta)
             if r.id not in fired_ids]
    turns = [t.get("text") or "" for t in seen.get("turns") or []]
    return fragment(200, result=result, fired=fired, quiet=quiet, turns=turns,
                    fits=book.applies_to.applies(view.meta), meta=view.meta, stored_qa=analysis.get("qa") or {},
                    only=rule, masked=not who.see_pii)


def _load_text_book(text: str, config):
    """The rule book in ``text`` loaded against the taxonomy in force: (book, []) or (None, problems)."""
    from api.storage.config_files import taxonomy_in_force
    from nlp.taxonomy import TaxonomyError, load_taxonomy
    from qa_rules.errors import RuleBookError
    from qa_rules.loader import load_rulebook

    try:
        taxonomy = load_taxonomy(taxonomy_in_force(config))
    except TaxonomyError as exc:
        raise RuntimeError(f"the taxonomy in force does not load: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="callscope-try-") as tmp:
        path = Path(tmp) / "rulebook.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_rulebook(path, collect_errors=True, taxonomy=taxonomy), []
        except RuleBookError as exc:
            return None, [{"line": e.source.line, "rule": e.source.rule_id, "code": e.code, "message": e.message}
                          for e in exc.errors]
