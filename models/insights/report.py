"""What every report returns: tables (written as CSV), charts (ECharts options) and a summary.

A report builder does the arithmetic and returns a ``Report``; it never writes files. Writing
(JSON, CSV, XLSX, an HTML chart page) is ``api/reports.py``'s job, so the same report can also
be served by the API later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Table:
    """Rows of one CSV file: ``columns`` fixes their order, each row is a dict over them."""

    name: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Chart:
    """One chart: a title and the ECharts option object that draws it."""

    title: str
    option: dict[str, Any]
    height: int = 420


@dataclass(slots=True)
class Report:
    """A finished report: summary (JSON), tables, charts and notes explaining the method."""

    name: str
    title: str
    summary: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    xlsx: bool = False

    def table(self, name: str) -> Table:
        """The table called ``name`` (KeyError if the report has none)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"report {self.name!r} has no table {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: summary, notes and every table's rows."""
        return {
            "report": self.name,
            "title": self.title,
            "summary": self.summary,
            "notes": self.notes,
            "tables": {t.name: t.rows for t in self.tables},
        }
