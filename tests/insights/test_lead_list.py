"""The daily lead list (服转销): constructed calls with known leads, merges and do-not-disturb decisions."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from api.reports import write_report
from models.insights.lead_list import build_lead_list, load_lead_settings
from tests.insights.factory import make_call, records

DAY = "2026-10-20"


def lead(product: str = "流量包", score: float = 0.8, intent: str = "high", turns: tuple[int, ...] = (1,)) -> dict:
    return {"intent": intent, "product": product, "score": score, "turns": list(turns)}


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dnd.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def only_suppressed(report) -> dict:
    """The single suppressed row (and no kept one)."""
    assert report.table("leads").rows == []
    rows = report.table("suppressed").rows
    assert len(rows) == 1
    return rows[0]


# --- rows -------------------------------------------------------------------------------------------


def test_lead_kept_when_no_rule_applies():
    report = build_lead_list(records(make_call("x1", lead=lead(), history={"contacts_30d": 2}),
                                     make_call("x2", customer="C2")))   # no lead: not listed
    assert report.table("leads").rows == [{
        "customer_id": "C1", "product": "流量包", "score": 0.8, "intent": "high", "evidence": "我想问一下话费。",
        "call_time": "2026-10-20 10:00:00", "call_id": "x1", "call_ids": ["x1"], "agent_id": "A1",
        "preferred_channel": "",
    }]
    assert report.table("suppressed").rows == []
    assert report.summary["leads_found"] == 1 and report.summary["kept"] == 1 and report.summary["suppressed"] == 0
    assert report.summary["suppressed_by_rule"] == {"complaint_risk": 0, "recent_complaint": 0,
                                                    "refused_product": 0, "too_many_contacts": 0}
    assert report.name == "leads" and report.xlsx is True


def test_same_customer_and_product_merged_keeping_the_highest_score():
    calls = records(
        make_call("m1", time="09:00:00", agent="A1", lead=lead(score=0.6, intent="medium")),
        make_call("m2", time="14:00:00", agent="A7", lead=lead(score=0.9, intent="high"),
                  turns=[("agent", "您好", 0, 1), ("customer", "那流量包怎么办理？", 1, 3)]),
        make_call("m3", time="11:00:00", lead=lead(product="宽带", score=0.7)),
    )
    rows = build_lead_list(calls).table("leads").rows
    assert [(r["product"], r["score"], r["call_id"]) for r in rows] == [("流量包", 0.9, "m2"), ("宽带", 0.7, "m3")]
    merged = rows[0]
    assert merged["call_ids"] == ["m1", "m2"]
    assert (merged["intent"], merged["agent_id"], merged["call_time"]) == ("high", "A7", "2026-10-20 14:00:00")
    assert merged["evidence"] == "那流量包怎么办理？"


def test_leads_from_another_day_are_not_listed():
    calls = records(
        make_call("d19", day="2026-10-19", lead=lead(product="宽带", score=0.9)),
        make_call("d20", day="2026-10-20", lead=lead(score=0.5), complaint_risk=0.9),
    )
    latest = build_lead_list(calls)   # day=None: the latest day in the data
    assert latest.summary["day"] == "2026-10-20"
    assert [r["call_id"] for r in latest.table("suppressed").rows] == ["d20"]
    assert latest.table("leads").rows == []
    earlier = build_lead_list(calls, day=date(2026, 10, 19))
    # the 20th's call (and its complaint risk) lies after the list day: it neither lists nor suppresses
    assert [r["call_id"] for r in earlier.table("leads").rows] == ["d19"]
    assert earlier.table("suppressed").rows == []


def test_minimum_intent_filters_weak_leads(tmp_path):
    calls = records(make_call("w1", lead=lead(intent="low", score=0.3)),
                    make_call("w2", customer="C2", lead=lead(intent="medium", score=0.5)))
    assert [r["call_id"] for r in build_lead_list(calls).table("leads").rows] == ["w2", "w1"]
    assert [r["call_id"] for r in build_lead_list(calls, min_intent="medium").table("leads").rows] == ["w2"]
    path = rules_file(tmp_path, "min_intent: medium\nrules: []\n")
    assert [r["call_id"] for r in build_lead_list(calls, rules_path=path).table("leads").rows] == ["w2"]


def test_evidence_is_the_customer_turn_cut_to_sixty_characters():
    long_text = "我想" + "了解一下新的套餐" * 12
    calls = records(
        make_call("e1", lead=lead(turns=(1,)), turns=[("agent", "您好", 0, 1), ("customer", long_text, 1, 9)]),
        make_call("e2", customer="C2", lead=lead(turns=(0,)),  # lead turn is the agent's: the next customer turn
                  turns=[("agent", "给您推荐流量包", 0, 1), ("customer", "好的，我要办", 1, 2)]),
    )
    rows = {r["call_id"]: r for r in build_lead_list(calls).table("leads").rows}
    assert len(rows["e1"]["evidence"]) == 60
    assert rows["e1"]["evidence"] == long_text[:59] + "…"
    assert rows["e2"]["evidence"] == "好的，我要办"


def test_preferred_channel_from_the_analysis_or_the_history():
    calls = records(
        make_call("p0", day="2026-10-02", customer="C2", history={"preferred_channel": "短信"}),
        make_call("p1", lead=lead(), preferred_channel="微信"),
        make_call("p2", customer="C2", lead=lead()),
        make_call("p3", customer="C3", lead=lead()),
    )
    rows = {r["call_id"]: r["preferred_channel"] for r in build_lead_list(calls).table("leads").rows}
    assert rows == {"p1": "微信", "p2": "短信", "p3": ""}


# --- do-not-disturb rules, one at a time ------------------------------------------------------------


def test_high_complaint_risk_suppresses_and_names_the_numbers():
    row = only_suppressed(build_lead_list(records(make_call("r1", lead=lead(), complaint_risk=0.72))))
    assert row["rules"] == ["complaint_risk"]
    assert "complaint risk 0.72 ≥ 0.5" in row["reasons"][0] and "投诉风险 0.72 ≥ 0.5" in row["reasons"][0]
    # an earlier call's risk counts too; a risk just under the threshold does not
    earlier = build_lead_list(records(make_call("r0", day="2026-10-01", complaint_risk=0.6),
                                      make_call("r1", lead=lead(), complaint_risk=0.1)))
    assert "complaint risk 0.60 ≥ 0.5 (call r0)" in only_suppressed(earlier)["reasons"][0]
    assert len(build_lead_list(records(make_call("r1", lead=lead(), complaint_risk=0.49))).table("leads").rows) == 1


def test_recent_complaint_suppresses_and_names_the_numbers(tmp_path):
    by_history = only_suppressed(build_lead_list(records(
        make_call("c1", lead=lead(), history={"last_complaint_days": 12}))))
    assert by_history["rules"] == ["recent_complaint"]
    assert "last complaint 12 days ago ≤ 30" in by_history["reasons"][0]

    complaint_call = make_call("c0", day="2026-10-05", reasons=[("service_complaint", [0, 1], 6.0)])
    by_call = only_suppressed(build_lead_list(records(complaint_call, make_call("c1", lead=lead()))))
    assert "call c0 15 days ago has reason service_complaint (≤ 30 days)" in by_call["reasons"][0]

    old_call = make_call("c0", day="2026-09-10", reasons=[("service_complaint", [0, 1], 6.0)])
    assert len(build_lead_list(records(old_call, make_call("c1", lead=lead()))).table("leads").rows) == 1

    # complaints_90d says nothing about the last 30 days; with a 90-day window it does
    ninety = records(make_call("c1", lead=lead(), history={"complaints_90d": 1}))
    assert len(build_lead_list(ninety).table("leads").rows) == 1
    path = rules_file(tmp_path, "rules:\n  - id: recent_complaint\n    days: 90\n")
    assert "1 complaint(s) in the 90 days before call c1" in only_suppressed(
        build_lead_list(ninety, rules_path=path))["reasons"][0]


def test_refused_same_product_suppresses_and_names_the_numbers():
    def refusal(call_id, day, product="流量包", direction="outbound"):
        return make_call(call_id, day=day, direction=direction, outcome="refused",
                         lead={"intent": "none", "product": product, "score": 0.1, "turns": []})

    row = only_suppressed(build_lead_list(records(refusal("o1", "2026-10-10"), make_call("c1", lead=lead()))))
    assert row["rules"] == ["refused_product"]
    assert "refused 流量包 on outbound call o1 10 days ago (≤ 30)" in row["reasons"][0]
    for other in (refusal("o1", "2026-10-10", product="宽带"),          # another product
                  refusal("o1", "2026-10-10", direction="inbound"),     # not an outbound call
                  refusal("o1", "2026-09-19")):                         # 31 days before
        assert len(build_lead_list(records(other, make_call("c1", lead=lead()))).table("leads").rows) == 1


def test_too_many_contacts_suppresses_and_names_the_numbers():
    by_history = only_suppressed(build_lead_list(records(make_call("c1", lead=lead(), history={"contacts_30d": 5}))))
    assert by_history["rules"] == ["too_many_contacts"]
    assert "contacted 5 times in 30 days > 4 (history 5, calls in data 1)" in by_history["reasons"][0]
    assert len(build_lead_list(records(make_call("c1", lead=lead(), history={"contacts_30d": 4})))
               .table("leads").rows) == 1

    prior = [make_call(f"k{i}", day=d, direction=("outbound" if i % 2 else "inbound"))
             for i, d in enumerate(["2026-09-21", "2026-10-01", "2026-10-10", "2026-10-19"])]
    by_data = only_suppressed(build_lead_list(records(*prior, make_call("c1", lead=lead()))))
    assert "contacted 5 times in 30 days > 4 (history 0, calls in data 5)" in by_data["reasons"][0]
    prior[0]["started_at"] = "2026-09-20T10:00:00+08:00"   # 30 days before: outside the window
    assert len(build_lead_list(records(*prior, make_call("c1", lead=lead()))).table("leads").rows) == 1


def test_two_rules_both_named_and_counted():
    report = build_lead_list(records(
        make_call("c1", lead=lead(), complaint_risk=0.8, history={"contacts_30d": 9}),
        make_call("c2", customer="C2", lead=lead(score=0.5), history={"contacts_30d": 6}),
    ))
    rows = {r["call_id"]: r["rules"] for r in report.table("suppressed").rows}
    assert rows == {"c1": ["complaint_risk", "too_many_contacts"], "c2": ["too_many_contacts"]}
    assert report.summary["suppressed_by_rule"] == {"complaint_risk": 1, "recent_complaint": 0,
                                                    "refused_product": 0, "too_many_contacts": 2}
    assert report.summary["suppressed"] == 2 and report.summary["kept"] == 0


# --- settings ---------------------------------------------------------------------------------------


def test_disabled_rule_does_not_fire(tmp_path):
    path = rules_file(tmp_path, "rules:\n  - id: complaint_risk\n    enabled: false\n    threshold: 0.5\n"
                                "  - id: too_many_contacts\n")
    report = build_lead_list(records(make_call("c1", lead=lead(), complaint_risk=0.95)), rules_path=path)
    assert [r["call_id"] for r in report.table("leads").rows] == ["c1"]
    assert report.summary["rules_enabled"] == ["too_many_contacts"]
    assert report.summary["rules_disabled"] == ["complaint_risk"]


def test_threshold_from_the_yaml(tmp_path):
    path = rules_file(tmp_path, "rules:\n  - id: complaint_risk\n    threshold: 0.8\n")
    calls = records(make_call("c1", lead=lead(), complaint_risk=0.72))
    assert len(build_lead_list(calls, rules_path=path).table("leads").rows) == 1


def test_bundled_settings_load_with_the_documented_defaults():
    settings = load_lead_settings()
    assert settings.min_intent == "low"
    assert {rule.id: params for rule, params in settings.rules} == {
        "complaint_risk": {"threshold": 0.5},
        "recent_complaint": {"days": 30, "reason_code": "service_complaint"},
        "refused_product": {"days": 30},
        "too_many_contacts": {"max_contacts": 4, "days": 30},
    }


@pytest.mark.parametrize(("text", "names"), [
    ("rules:\n  - id: no_such_rule\n", ["rules[0]", "no_such_rule"]),
    ("rules:\n  - id: complaint_risk\n  - id: complaint_risk\n", ["rules[1]", "listed twice"]),
    ("rules:\n  - id: complaint_risk\n    threshold: high\n", ["rules[0]", "complaint_risk", "threshold"]),
    ("rules:\n  - id: complaint_risk\n    threshold: 1.5\n", ["rules[0]", "threshold"]),
    ("rules:\n  - id: refused_product\n    days: 7.5\n", ["rules[0]", "refused_product", "days"]),
    ("rules:\n  - id: too_many_contacts\n    enabled: yes please\n", ["rules[0]", "enabled"]),
    ("rules:\n  - id: too_many_contacts\n    max_calls: 3\n", ["rules[0]", "max_calls"]),
    ("rules:\n  - id: recent_complaint\n    reason_code: rudeness\n", ["rules[0]", "rudeness"]),
    ("rules:\n  - complaint_risk\n", ["rules[0]", "id"]),
    ("min_intent: none\n", ["min_intent"]),
    ("rulez: []\n", ["rulez"]),
])
def test_bad_yaml_entry_raises_naming_file_and_entry(tmp_path, text, names):
    path = rules_file(tmp_path, text)
    with pytest.raises(ValueError) as error:
        build_lead_list(records(make_call("c1", lead=lead())), rules_path=path)
    message = str(error.value)
    assert str(path) in message
    for name in names:
        assert name in message


# --- output -----------------------------------------------------------------------------------------


def test_chart_stacks_kept_and_suppressed_per_product():
    report = build_lead_list(records(
        make_call("a", customer="C1", lead=lead("流量包")),
        make_call("b", customer="C2", lead=lead("流量包"), complaint_risk=0.9),
        make_call("c", customer="C3", lead=lead("宽带")),
        make_call("d", customer="C4", lead=lead("流量包")),
    ))
    option = report.charts[0].option
    assert option["yAxis"]["data"] == ["流量包", "宽带"]
    assert [s["data"] for s in option["series"]] == [[2, 1], [1, 0]]
    assert {s["stack"] for s in option["series"]} == {"leads"}


def test_xlsx_reads_back_with_the_csv_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    report = build_lead_list(records(
        make_call("m1", time="09:00:00", lead=lead(score=0.6)),
        make_call("m2", time="14:00:00", lead=lead(score=0.9), preferred_channel="微信"),
        make_call("s1", customer="C2", lead=lead("宽带"), complaint_risk=0.7),
    ))
    written = write_report(report, tmp_path)
    assert tmp_path / "leads.xlsx" in written
    book = openpyxl.load_workbook(tmp_path / "leads.xlsx")
    assert book.sheetnames == ["leads", "suppressed"]
    for table in report.tables:
        with (tmp_path / f"leads.{table.name}.csv").open(encoding="utf-8-sig", newline="") as fh:
            csv_rows = list(csv.reader(fh))
        xlsx_rows = [["" if v is None else str(v) for v in row] for row in book[table.name].iter_rows(values_only=True)]
        assert xlsx_rows == csv_rows
        assert len(csv_rows) == 1 + len(table.rows) == 2
    assert book["leads"]["H2"].value == "m1; m2"   # call_ids
