"""`callscope report` and `callscope risk` over folders of analyses; analyze fills outcome and risk."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import SHARED
from tests.insights.factory import make_call

CALLS = SHARED / "corpus" / "calls"
CALM = {"contacts_30d": 0, "complaints_90d": 0, "repeat_within_24h": False}


def write(folder: Path, *calls: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for call in calls:
        (folder / f"{call['call_id']}.analysis.json").write_text(json.dumps(call, ensure_ascii=False), "utf-8")
    return folder


def lead(product: str, score: float) -> dict:
    return {"intent": "high", "product": product, "score": score, "turns": [1]}


@pytest.fixture()
def day_of_calls(tmp_path: Path) -> Path:
    """Three customers on 2026-10-20: one lead kept, one lead held back by complaint risk, one quiet."""
    return write(
        tmp_path / "an",
        make_call("k1", customer="C1", lead=lead("流量包", 0.9), complaint_risk=0.1, history=CALM,
                  turns=[("agent", "您好。", 0.0, 1.0), ("customer", "有没有更大的流量包？", 1.0, 3.0)],
                  reasons=[("bill_inquiry", [0, 1], 3.0)]),
        make_call("r1", customer="C2", lead=lead("宽带", 0.8), complaint_risk=0.9, history=CALM,
                  reasons=[("bill_dispute", [0, 1], 6.0)]),
        make_call("q1", customer="C3", complaint_risk=0.3, history=CALM, reasons=[("bill_inquiry", [0, 1], 6.0)]),
        make_call("old", customer="C4", day="2026-10-19", complaint_risk=0.99, history=CALM),
    )


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_report_all_writes_every_report(day_of_calls: Path, tmp_path: Path):
    out = tmp_path / "reports"
    result = CliRunner().invoke(app, ["report", "all", "--calls", str(day_of_calls), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("voice", "handle_time", "script_map", "risk", "leads", "competitors", "ivr"):
        assert (out / f"{name}.json").is_file() and (out / f"{name}.html").is_file(), name
    assert (out / "echarts.min.js").stat().st_size > 500_000  # the vendored library, no CDN
    kept = rows(out / "leads.leads.csv")
    assert [(r["customer_id"], r["product"]) for r in kept] == [("C1", "流量包")]
    held = rows(out / "leads.suppressed.csv")
    assert [(r["customer_id"], r["rules"]) for r in held] == [("C2", "complaint_risk")]
    top = rows(out / "risk.top.csv")  # the latest day only, riskiest customer first
    assert [r["customer_id"] for r in top] == ["C2", "C3", "C1"]


def test_risk_command_prints_the_ranked_list(day_of_calls: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["risk", "--calls", str(day_of_calls), "--date", "2026-10-19",
                                      "--top", "5", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    listed = [line for line in result.output.splitlines() if line.strip().startswith("1.")]
    assert listed and "C4" in listed[0] and "0.99" in listed[0]
    assert "C2" not in result.output.split("risk:")[0]  # other days are not listed


def test_bad_inputs_are_named(day_of_calls: Path, tmp_path: Path):
    (day_of_calls / "broken.analysis.json").write_text("{", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "leads", "--calls", str(day_of_calls), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "broken.analysis.json" in result.stderr
    assert (tmp_path / "o" / "leads.leads.csv").is_file()  # the rest of the batch still reported
    result = CliRunner().invoke(app, ["report", "nonsense", "--calls", str(day_of_calls)])
    assert result.exit_code == 2 and "unknown report 'nonsense'" in result.stderr
    result = CliRunner().invoke(app, ["report", "risk", "--calls", str(day_of_calls), "--date", "20.10.2026"])
    assert result.exit_code == 2 and "is not a date" in result.stderr


@pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")
def test_analyze_fills_outcome_and_complaint_risk(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("tel-in-0034", "tel-in-0022", "out-0016"):
        shutil.copy(CALLS / f"{name}.json", folder)
    crm = json.loads((CALLS / "out-0001.json").read_text(encoding="utf-8"))
    crm["outcome"] = "callback"  # the business system's word wins over the prediction
    (folder / "out-0001.json").write_text(json.dumps(crm, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out)]).exit_code == 0
    read = {p.name.split(".")[0]: json.loads(p.read_text("utf-8")) for p in out.glob("*.analysis.json")}
    # tel-in-0034: a repeat caller threatening 工信部 who later complained; tel-in-0022: a calm, resolved call
    angry, calm = read["tel-in-0034"]["complaint_risk"], read["tel-in-0022"]["complaint_risk"]
    assert angry["score"] > 0.5 > calm["score"]
    assert "repeat call within 24h" in angry["drivers"] and angry["action"]
    assert read["tel-in-0022"]["outcome"] == {"label": "resolved", "score": read["tel-in-0022"]["outcome"]["score"],
                                               "source": "predicted"}
    assert read["out-0016"]["outcome"]["label"] == "refused"
    assert read["out-0001"]["outcome"] == {"label": "callback", "source": "crm"}
    assert read["tel-in-0034"]["history"]["repeat_within_24h"] is True  # metadata carried through


@pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")
def test_eval_reports_complaint_risk(tmp_path: Path):
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["analyze", str(CALLS), "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(app, ["eval", "--corpus", str(CALLS), "--pred", str(out), "--json"])
    metrics = json.loads(result.output)
    assert metrics["complaint_risk"]["calls"] == 60 and metrics["complaint_risk"]["complaints"] == 10
    assert metrics["complaint_risk"]["roc_auc"] >= 0.85
    assert metrics["outcome"]["calls"] == 60 and metrics["outcome"]["accuracy"] >= 0.8
