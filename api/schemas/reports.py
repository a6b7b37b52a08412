"""Request and response shapes of the report routes (the insight reports and the daily lists)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.calls import Day

ReportName = Literal["voice", "handle-time", "script-map", "risk", "leads", "competitors", "ivr"]


class ReportQuery(BaseModel):
    """Query parameters of a report: its day, the calls it reads, and the download format."""

    model_config = ConfigDict(extra="forbid")
    date: Day | None = Field(
        default=None, description="The report's day (lists) or the last day of its period; default: the latest "
                                  "call day stored (up to date_to).")
    date_from: Day | None = Field(
        default=None, description="First call day read; default depends on the report: risk the day itself, "
                                  "leads the do-not-disturb look-back, voice the 7-day period and its baseline, "
                                  "the others the 30 days ending at the day.")
    date_to: Day | None = Field(default=None, description="Last call day read; default: the report's day.")
    format: Literal["json", "csv", "xlsx"] = Field(
        default="json", description="json; csv: one table (UTF-8 with BOM, Excel reads the Chinese); "
                                    "xlsx: every table, one sheet each.")
    table: str | None = Field(default=None, max_length=60,
                              description="The table to download as CSV (default: the report's first table).")
    top: int | None = Field(default=None, ge=1, le=10_000, description="Risk list length (default: risk settings).")

    @model_validator(mode="after")
    def _dates_in_order(self) -> ReportQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self


class RiskListQuery(BaseModel):
    """Query parameters of the risk list."""

    model_config = ConfigDict(extra="forbid")
    date: Day | None = Field(default=None, description="The list's day; default: the latest call day stored.")
    format: Literal["json", "csv", "xlsx"] = "json"
    table: Literal["top"] | None = None
    top: int | None = Field(default=None, ge=1, le=10_000, description="List length (default: risk settings).")


class LeadListQuery(BaseModel):
    """Query parameters of the lead list."""

    model_config = ConfigDict(extra="forbid")
    date: Day | None = Field(default=None, description="The list's day; default: the latest call day stored.")
    format: Literal["json", "csv", "xlsx"] = "json"
    table: Literal["leads", "suppressed"] | None = Field(
        default=None, description="Table for CSV: the leads to call (default) or those held back.")


class Window(BaseModel):
    """Which calls the report read: call days first..last, the report day, calls read and skipped."""

    first: str | None
    last: str | None
    day: str | None
    calls: int
    skipped: int = Field(description="Stored analyses that could not be read (e.g. a bad started_at).")


class ChartOut(BaseModel):
    title: str
    option: dict[str, Any] = Field(description="ECharts option object.")
    height: int


class ReportOut(BaseModel):
    """A report: summary, notes, every table's rows (and column order), charts, and the calls it read."""

    report: str
    title: str
    summary: dict[str, Any]
    notes: list[str]
    tables: dict[str, list[dict[str, Any]]]
    columns: dict[str, list[str]]
    charts: list[ChartOut]
    window: Window


class ReportInfo(BaseModel):
    name: str
    roles: list[str]
    lists: bool = Field(description="A daily list (also served under /api/lists/, with XLSX).")
