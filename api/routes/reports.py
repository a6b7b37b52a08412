"""Routes: the insight reports as endpoints (JSON, CSV per table, XLSX) and the daily risk and lead lists.

Reports read the stored analyses of a window of call days, with each call's reviewed QA result
where there is one; callers without the PII right get masked text in quotes and evidence.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.auth import Caller, Principal
from api.reports import default_first_day, json_numbers, report_xlsx, risk_model_for, table_csv
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
        first = query.date_from or (default_first_day(name, day) if day else None)
        last = query.date_to or day
        records, skipped = ([], 0) if day is None else report_records(
            session, _iso(first), _iso(last), mask=not who.see_pii)
    from api.reports import report_builders
    from models.risk import RiskError

    try:
        options = {"dnd": config.extra.get("dnd"), "top": query.top,
                   "risk_model": risk_model_for(str(config.models) if config.models else None)}
        built = report_builders()[name](records, day, options)
    except (RiskError, ValueError) as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{name}: {exc}") from None
    if query.format == "csv":
        return _csv_response(built, query.table)
    if query.format == "xlsx":
        return Response(report_xlsx(built), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{built.name}.xlsx"'})
    return ReportOut(
        **json_numbers(built.to_dict()), columns={t.name: t.columns for t in built.tables},
        charts=[ChartOut(title=c.title, option=json_numbers(c.option), height=c.height) for c in built.charts],
        window=Window(first=_iso(first), last=_iso(last), day=day_text, calls=len(records), skipped=skipped))


def _may_read(who: Principal, name: str) -> bool:
    return who.role == "admin" or who.role in REPORT_ROLES[name]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _csv_response(built, table_name: str | None) -> Response:
    """One table as CSV, UTF-8 with a BOM and cells as the CLI writes them (lists joined with '; ')."""
    if not built.tables:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"report {built.name!r} has no tables")
    try:
        table = built.table(table_name) if table_name else built.tables[0]
    except KeyError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"report {built.name!r} has no table {table_name!r}; it has "
                            f"{', '.join(t.name for t in built.tables)}") from None
    return Response(table_csv(table), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{built.name}.{table.name}.csv"'})


