"""Self-service path report on constructed paths with known categories, node rates and exit nodes."""

from __future__ import annotations

import pytest

from models.insights.ivr import build_ivr_report, exit_step, path_category
from models.insights.settings import SettingsError
from tests.insights.factory import make_call, records


def step(node: str, name: str, result: str = "ok", channel: str = "ivr") -> dict:
    return {"channel": channel, "node": node, "name": name, "result": result}


TRANSFER = step("0", "转人工", "transfer")
MENU = step("1", "话费查询")


def test_one_path_per_category():
    assert path_category([TRANSFER]) == "zero_out"
    assert path_category([step("0", "转人工", "fail"), TRANSFER]) == "zero_out"      # only transfer-node steps
    assert path_category([MENU, step("1-1", "余额查询", "fail"), TRANSFER]) == "after_failure"
    assert path_category([MENU, step("1-1", "余额查询", "timeout"), TRANSFER]) == "after_failure"
    assert path_category([MENU, step("1-2", "账单查询"), step("9", "重听", "repeat"), step("1-2", "账单查询"),
                          TRANSFER]) == "after_loop"
    assert path_category([MENU, step("1-2", "账单查询"), step("1-2", "账单查询"), TRANSFER]) == "after_loop"
    assert path_category([MENU, step("1-1", "余额查询"), TRANSFER]) == "other"


def test_failure_wins_over_a_loop():
    looped_and_failed = [MENU, step("1-1", "卡片激活", "fail"), step("1-1", "卡片激活", "repeat"), TRANSFER]
    assert path_category(looped_and_failed) == "after_failure"
    assert any("after_failure" in note and "Precedence" in note for note in build_ivr_report([]).notes)


def test_edges_of_the_transfer():
    # asking for an agent again is not a self-service loop
    assert path_category([MENU, step("0", "转人工", "repeat"), TRANSFER]) == "other"
    # a menu node that hands over itself: the step before it is the exit node
    direct = [step("2", "挂失及紧急服务"), step("2-1", "信用卡挂失", "transfer")]
    assert path_category(direct) == "other" and exit_step(direct)["node"] == "2"
    # no transfer step: the whole path is self-service
    assert path_category([MENU, step("1-1", "余额查询", "fail")]) == "after_failure"
    assert exit_step([TRANSFER]) is None


def report_calls():
    return records(
        make_call("A", path=[TRANSFER]),
        make_call("B", path=[MENU, step("1-1", "余额查询", "fail"), TRANSFER],
                  reasons=[("service_complaint", [0, 1], 6.0)]),
        make_call("C", path=[MENU, step("1-1", "余额查询", "timeout"), TRANSFER], complaint_risk=0.7),
        make_call("D", path=[MENU, step("1-2", "账单查询"), step("9", "重听", "repeat"), step("1-2", "账单查询"),
                             TRANSFER], complaint_risk=0.3),
        make_call("E", path=[MENU, step("1-1", "余额查询"), TRANSFER], labels={"complained_later": True}),
        make_call("F", path=[MENU, step("1-1", "余额查询", "fail"), step("1-1", "余额查询", "repeat"), TRANSFER]),
        make_call("G", path=[]),                                              # no path: not classified
        make_call("H", direction="outbound", path=[MENU, TRANSFER]),          # outbound: not classified
    )


def test_categories_table():
    report = build_ivr_report(report_calls())
    rows = [(r["category"], r["label"], r["calls"], r["share"]) for r in report.table("categories").rows]
    assert rows == [("zero_out", "首层转人工", 1, 0.1667), ("after_failure", "自助失败后转人工", 3, 0.5),
                    ("after_loop", "循环后转人工", 1, 0.1667), ("other", "其他", 1, 0.1667)]
    assert report.summary["calls_with_path"] == 6 and report.summary["inbound_calls"] == 7
    pie = report.charts[0].option["series"][0]["data"]
    assert pie[1] == {"name": "自助失败后转人工", "value": 3}


def test_node_visits_fails_and_failure_rates_are_exact():
    report = build_ivr_report(report_calls())
    nodes = {(r["channel"], r["node"], r["name"]): r for r in report.table("nodes").rows}
    balance = nodes[("ivr", "1-1", "余额查询")]
    assert (balance["visits"], balance["calls"], balance["fails"], balance["repeats"], balance["failure_rate"]) == \
        (5, 4, 3, 1, 0.6)
    transfer = nodes[("ivr", "0", "转人工")]
    assert (transfer["visits"], transfer["transfers"], transfer["failure_rate"]) == (6, 6, 0.0)
    assert (nodes[("ivr", "1-2", "账单查询")]["visits"], nodes[("ivr", "1-2", "账单查询")]["calls"]) == (2, 1)
    assert nodes[("ivr", "9", "重听")]["repeats"] == 1
    assert [r["node"] for r in report.table("nodes").rows][:3] == ["0", "1", "1-1"]   # most visited first
    bars = report.charts[1].option
    assert bars["yAxis"]["data"][2] == "余额查询 (ivr 1-1)" and bars["series"][0]["data"][2] == 60.0


def test_exit_nodes_count_transfers_and_complaints():
    exits = build_ivr_report(report_calls()).table("exit_nodes").rows
    got = [(r["node"], r["transfers"], r["share"], r["after_failure"], r["after_loop"], r["other"], r["complaints"],
            r["complaint_rate"]) for r in exits]
    # B, C, E, F leave from 1-1 (B: complaint reason, C: risk 0.7, E: complained_later); D from 1-2 (risk 0.3)
    assert got == [("1-1", 4, 0.8, 3, 0, 1, 3, 0.75), ("1-2", 1, 0.2, 0, 1, 0, 0, 0.0)]


def test_complaint_rules_follow_the_settings():
    settings = {"ivr": {"complaint_risk_threshold": 0.8, "use_complained_later": False}}
    exits = build_ivr_report(report_calls(), settings=settings).table("exit_nodes").rows
    assert exits[0]["complaints"] == 1                                        # only B's complaint reason is left
    with pytest.raises(SettingsError, match="complaint_reasons"):
        build_ivr_report(report_calls(), settings={"ivr": {"complaint_reasons": ["no_such_reason"]}})
