"""Routes: the insight reports as endpoints (JSON, CSV per table, XLSX) and the daily risk and lead lists.

Reports read the stored analyses of a window of call days, with each call's reviewed QA result
where there is one; callers without the PII right get masked text in quotes and evidence.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.auth import Caller, Principal
from api.schemas.calls import AUTH_ERRORS
from api.schemas.reports import (
    ChartOut,
    LeadListQuery,
    ReportInfo,
    ReportName,
    ReportOut,
    ReportQuery,
    RiskListQuery,
    Window,
)
from api.storage.calls import latest_day, report_records

router = APIRouter(tags=["reports"])

# who reads what (admin reads everything): telesales get their lead list, script maps and competitors;
# the complaint-risk list names customers at risk and stays with QA
REPORT_ROLES: dict[str, tuple[str, ...]] = {
    "voice": ("qa",), "handle-time": ("qa",), "script-map": ("qa", "sales"), "risk": ("qa",),
    "leads": ("qa", "sales"), "competitors": ("qa", "sales"), "ivr": ("qa",),
}
LISTS = ("risk", "leads")
PERIOD_DAYS = 30  # calls read by the period reports (handle-time, script-map, competitors, ivr) by default
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {
    **AUTH_ERRORS,
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The report (JSON), a table (CSV) or a workbook."},
    403: {"description": "The caller's role may not read this report."},
    503: {"description": "A report settings file of the service is unusable (the message names it)."},
}


@router.get("/api/reports", response_model=list[ReportInfo], responses=AUTH_ERRORS)
def reports(who: Caller) -> list[ReportInfo]:
    """The reports the caller may read."""
    return [ReportInfo(name=name, roles=["admin", *roles], lists=name in LISTS)
            for name, roles in REPORT_ROLES.items() if _may_read(who, name)]


@router.get("/api/reports/{name}", response_model=ReportOut, responses=DOWNLOADS)
def report(name: ReportName, request: Request, who: Caller, query: Annotated[ReportQuery, Query()]):
    """One report over the stored calls: JSON by default, ``format=csv`` one table, ``format=xlsx`` all."""
    return _serve(request, who, name, query)


@router.get("/api/lists/risk", response_model=ReportOut, responses=DOWNLOADS)
def risk_list(request: Request, who: Caller, query: Annotated[RiskListQuery, Query()]):
    """The day's top-risk complaint list (投诉预警): customer, call, score, drivers, suggested action."""
    return _serve(request, who, "risk", ReportQuery(**query.model_dump()))


@router.get("/api/lists/leads", response_model=ReportOut, responses=DOWNLOADS)
def lead_list(request: Request, who: Caller, query: Annotated[LeadListQuery, Query()]):
    """The day's lead list (服转销) with do-not-disturb rules applied; table ``suppressed`` says why."""
    return _serve(request, who, "leads", ReportQuery(**query.model_dump()))


def _serve(request: Request, who: Principal, name: str, query: ReportQuery):
    """Build report ``name`` for ``query`` and answer in the asked format."""
    if not _may_read(who, name):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {who.role!r} may not read the {name} report")
    config = request.app.state.config
    with request.app.state.db.session() as session:
        day_text = query.date.isoformat() if query.date else latest_day(
            session, _iso(query.date_from), _iso(query.date_to))
        day = date.fromisoformat(day_text) if day_text else None
        first = query.date_from or (_default_first(name, day) if day else None)
        last = query.date_to or day
        records, skipped = ([], 0) if day is None else report_records(
            session, _iso(first), _iso(last), mask=not who.see_pii)
    from api.reports import report_builders
    from models.risk import RiskError

    try:
        options = {"dnd": config.extra.get("dnd"), "top": query.top,
                   "risk_model": _risk_model(str(config.models) if config.models else None)}
        built = report_builders()[name](records, day, options)
    except (RiskError, ValueError) as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{name}: {exc}") from None
    if query.format == "csv":
        return _csv_response(built, query.table)
    if query.format == "xlsx":
        return Response(_xlsx_bytes(built), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{built.name}.xlsx"'})
    return ReportOut(
        **_finite(built.to_dict()), columns={t.name: t.columns for t in built.tables},
        charts=[ChartOut(title=c.title, option=_finite(c.option), height=c.height) for c in built.charts],
        window=Window(first=_iso(first), last=_iso(last), day=day_text, calls=len(records), skipped=skipped))


def _finite(value):
    """``value`` with NaN and infinite numbers as None (JSON has no such numbers: a ratio over no peers)
    and numpy numbers as plain ones."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _may_read(who: Principal, name: str) -> bool:
    return who.role == "admin" or who.role in REPORT_ROLES[name]


def _default_first(name: str, day: date) -> date:
    """First call day a report reads when the caller does not say: what its arithmetic looks at."""
    if name == "risk":
        return day
    if name == "leads":
        return day - timedelta(days=_lead_lookback())
    if name == "voice":
        from models.insights.settings import section_settings

        return day - timedelta(days=6 + int(section_settings("voice")["baseline_days"]))
    return day - timedelta(days=PERIOD_DAYS - 1)


@lru_cache(maxsize=1)
def _lead_lookback() -> int:
    """Days of history the do-not-disturb rules look back over (at least 30)."""
    from models.insights.lead_list import load_lead_settings

    try:
        rules = load_lead_settings().rules
    except ValueError:
        return 30
    return max([30, *(int(params.get("days") or 0) for _, params in rules)])


@lru_cache(maxsize=4)
def _risk_model(folder: str | None):
    """The complaint-risk model scoring analyses stored without a risk block (loaded once)."""
    from models.risk import load_risk
    from models.store import DEFAULT_MODEL

    return load_risk(folder or DEFAULT_MODEL)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _csv_response(built, table_name: str | None) -> Response:
    """One table as CSV, UTF-8 with a BOM and cells as the CLI writes them (lists joined with '; ')."""
    from api.reports import _cell

    if not built.tables:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"report {built.name!r} has no tables")
    try:
        table = built.table(table_name) if table_name else built.tables[0]
    except KeyError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"report {built.name!r} has no table {table_name!r}; it has "
                            f"{', '.join(t.name for t in built.tables)}") from None
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in table.rows)
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{built.name}.{table.name}.csv"'})


def _xlsx_bytes(built) -> bytes:
    """Every table of the report, one worksheet each (names cut to Excel's 31 characters)."""
    from openpyxl import Workbook

    from api.reports import _cell

    book = Workbook()
    book.remove(book.active)
    for table in built.tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.columns)
        for row in table.rows:
            sheet.append([_cell(row.get(c)) for c in table.columns])
    if not built.tables:
        book.create_sheet("empty")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
