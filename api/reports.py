"""Writing a ``Report`` to disk: ``<name>.json``, one CSV per table, optional XLSX, and an HTML page.

The HTML page draws the report's charts with ECharts, vendored in ``api/static/vendor`` (no CDN:
contact centres run offline); the script is copied once next to the pages.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import numbers
import shutil
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from models.insights.report import Report, Table

ECHARTS = Path(__file__).resolve().parent / "static" / "vendor" / "echarts.min.js"
PAGE_ROWS = 50


def write_report(report: Report, out: Path) -> list[Path]:
    """Write every file of ``report`` into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{report.name}.json"]
    written[0].write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str),
                          encoding="utf-8")
    for table in report.tables:
        path = out / f"{report.name}.{table.name}.csv"
        path.write_bytes(table_csv(table))
        written.append(path)
    if report.xlsx:
        path = out / f"{report.name}.xlsx"
        path.write_bytes(report_xlsx(report))
        written.append(path)
    written.append(_write_html(report, out))
    return written


def table_csv(table: Table) -> bytes:
    """One table as CSV bytes: UTF-8 with a BOM (so Excel reads Chinese right), cells as ``cell``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: cell(v) for k, v in row.items()} for row in table.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    """Every table of the report as one worksheet (names cut to Excel's 31 characters); a report
    without tables gets one empty sheet, since a workbook cannot have none."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.columns)
        for row in table.rows:
            sheet.append([cell(row.get(c)) for c in table.columns])
    if not report.tables:
        book.create_sheet("empty")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def json_numbers(value):
    """``value`` with NaN and infinite numbers as None (JSON has no such numbers: a ratio over no
    peers), numpy numbers as plain ones and dict keys as strings."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_numbers(v) for v in value]
    return value


def cell(value):
    """A CSV cell: lists joined with '; ', dicts as JSON, the rest as is."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _write_html(report: Report, out: Path) -> Path:
    """A self-contained page (plus echarts.min.js beside it): charts, notes, first rows of tables."""
    script = out / ECHARTS.name
    if not script.exists() or script.stat().st_size != ECHARTS.stat().st_size:
        shutil.copyfile(ECHARTS, script)
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{html.escape(report.title)}</title><script src='{ECHARTS.name}'></script>",
        ("<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;"
         "margin:24px;color:#222}table{border-collapse:collapse;font-size:13px;margin:8px 0 24px}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}"
         ".chart{width:100%;max-width:1100px;margin-bottom:28px}</style></head><body>"),
        f"<h1>{html.escape(report.title)}</h1>",
    ]
    for note in report.notes:
        parts.append(f"<p>{html.escape(note)}</p>")
    for i, chart in enumerate(report.charts):
        option = json.dumps(chart.option, ensure_ascii=False, default=str).replace("</", "<\\/")
        parts.append(
            f"<h2>{html.escape(chart.title)}</h2><div id='c{i}' class='chart' style='height:{chart.height}px'></div>"
            f"<script>echarts.init(document.getElementById('c{i}')).setOption({option});</script>"
        )
    for table in report.tables:
        shown = table.rows[:PAGE_ROWS]
        more = f" (first {PAGE_ROWS} of {len(table.rows)}; all in {report.name}.{table.name}.csv)" \
            if len(table.rows) > PAGE_ROWS else ""
        parts.append(f"<h2>{html.escape(table.name)}{html.escape(more)}</h2><table><tr>")
        parts.extend(f"<th>{html.escape(c)}</th>" for c in table.columns)
        parts.append("</tr>")
        for row in shown:
            cells = "".join(f"<td>{html.escape(str(cell(row.get(c, ''))))}</td>" for c in table.columns)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    path = out / f"{report.name}.html"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def report_builders() -> dict:
    """Every report by its CLI name: a function (calls, day, options) -> Report.

    ``day`` is the report's day (lead and risk lists) or the last day of the period (voice of the
    customer: the 7 days ending there); None means the latest day in the data.
    """
    from datetime import timedelta

    from models.insights.competitors import build_competitor_report
    from models.insights.handle_time import build_handle_time
    from models.insights.ivr import build_ivr_report
    from models.insights.lead_list import build_lead_list
    from models.insights.risk_list import build_risk_list
    from models.insights.script_map import build_script_map
    from models.insights.voice import build_voice

    def voice(calls, day, options):
        period = (day - timedelta(days=6), day) if day else None
        return build_voice(calls, period=period)

    def risk(calls, day, options):
        model = options.get("risk_model")
        settings = model.settings if model else None
        return build_risk_list(calls, day=day, top_n=options.get("top") or (settings.top_n if settings else 20),
                               high_risk=settings.high_risk if settings else 0.5, model=model)

    return {
        "voice": voice,
        "handle-time": lambda calls, day, options: build_handle_time(calls),
        "script-map": lambda calls, day, options: build_script_map(calls),
        "risk": risk,
        "leads": lambda calls, day, options: build_lead_list(calls, day=day, rules_path=options.get("dnd")),
        "competitors": lambda calls, day, options: build_competitor_report(calls),
        "ivr": lambda calls, day, options: build_ivr_report(calls),
    }


PERIOD_DAYS = 30  # calls read by the period reports (handle-time, script-map, competitors, ivr) by default


def default_first_day(name: str, day: date) -> date:
    """First call day report ``name`` reads when the caller does not say: what its arithmetic looks at."""
    if name == "risk":
        return day
    if name == "leads":
        return day - timedelta(days=lead_lookback_days())
    if name == "voice":
        from models.insights.settings import section_settings

        return day - timedelta(days=6 + int(section_settings("voice")["baseline_days"]))
    return day - timedelta(days=PERIOD_DAYS - 1)


@lru_cache(maxsize=1)
def lead_lookback_days() -> int:
    """Days of history the do-not-disturb rules look back over (at least 30)."""
    from models.insights.lead_list import load_lead_settings

    try:
        rules = load_lead_settings().rules
    except ValueError:
        return 30
    return max([30, *(int(params.get("days") or 0) for _, params in rules)])


@lru_cache(maxsize=4)
def risk_model_for(folder: str | None):
    """The complaint-risk model scoring analyses stored without a risk block (loaded once)."""
    from models.risk import load_risk
    from models.store import DEFAULT_MODEL

    return load_risk(folder or DEFAULT_MODEL)
