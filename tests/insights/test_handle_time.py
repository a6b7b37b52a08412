"""Handle time per reason: constructed calls whose reasons own known seconds, agents with known ratios."""

from __future__ import annotations

import json

import pytest

from models.insights.calls import record_from_analysis
from models.insights.handle_time import build_handle_time, dead_air_seconds, repeated_turns
from models.insights.settings import DEFAULTS
from models.insights.stats import quantile
from tests.insights.factory import make_call, records

CONF = DEFAULTS["handle_time"]
ASK = "我想换一个便宜点的套餐，有没有三十多块的"


def timed_call(call_id: str, seconds: float, *, agent: str = "A1", code: str = "plan_change",
               rate: float = 260.0, silences: list[tuple[float, float]] = (), repeat: bool = False) -> dict:
    """A call whose one reason owns all its turns and ``seconds``; optionally a repeated customer turn."""
    turns = [("agent", "您好，请问有什么可以帮您？", 0.0, 5.0), ("customer", ASK, 5.0, 20.0)]
    if repeat:
        turns += [("agent", "请问您现在用的是哪个套餐？", 30.0, 40.0), ("customer", ASK + "啊", 40.0, seconds)]
    else:
        turns += [("agent", "好的，我帮您看一下。", 20.0, seconds)]
    return make_call(call_id, agent=agent, turns=turns, reasons=[(code, list(range(len(turns))), seconds)],
                     acoustics={"speech_rate_cpm": {"agent": rate, "customer": 240.0},
                                "silences": [{"start": s, "end": e, "duration": e - s} for s, e in silences]})


def test_reason_with_known_seconds_gives_exact_median_p90_mean():
    seconds = [10.0, 20.0, 30.0, 40.0, 100.0]
    calls = records(*(timed_call(f"c{i}", s, agent=f"A{i}") for i, s in enumerate(seconds)))
    [row] = build_handle_time(calls).table("reasons").rows
    assert row == {"code": "plan_change", "reason": "套餐变更", "calls": 5, "agents": 5, "median_s": 30.0,
                   "p90_s": 76.0, "mean_s": 40.0, "total_s": 200.0}
    assert row["p90_s"] == quantile(seconds, 0.9)          # 40 + 0.6 x (100 - 40): the shared method


def test_two_reason_call_counts_each_reasons_own_seconds_not_the_whole_call():
    call = make_call("multi", turns=[("customer", "我的话费怎么多扣了", 0.0, 90.0), ("customer", "顺便换个套餐", 90.0, 120.0)],
                     reasons=[("bill_dispute", [0], 90.0), ("plan_change", [1], 30.0)])
    assert call["duration_s"] == 120.0
    rows = {r["code"]: r for r in build_handle_time(records(call)).table("reasons").rows}
    assert (rows["bill_dispute"]["calls"], rows["bill_dispute"]["median_s"]) == (1, 90.0)
    assert (rows["plan_change"]["calls"], rows["plan_change"]["median_s"]) == (1, 30.0)
    assert [r["code"] for r in build_handle_time(records(call)).table("reasons").rows] == [
        "bill_dispute", "plan_change"]                     # most total time first


def agents_calls():
    """S: 3 calls of 120 s with 10 s dead air, a repeated request and slow speech; A1, A2: 3 of 60 s each."""
    slow = [timed_call(f"s{i}", 120.0, agent="S", rate=180.0, silences=[(20.0, 30.0)], repeat=True) for i in range(3)]
    peers = [timed_call(f"{a}{i}", 60.0, agent=a) for a in ("A1", "A2") for i in range(3)]
    return records(*slow, *peers, timed_call("few", 200.0, agent="F"), timed_call("few2", 200.0, agent="F"))


def test_agent_twice_as_slow_as_peers_is_slow_with_evidence():
    report = build_handle_time(agents_calls())
    rows = {r["agent_id"]: r for r in report.table("agents").rows}
    slow = rows["S"]
    assert (slow["calls"], slow["median_s"], slow["peer_calls"], slow["peer_median_s"]) == (3, 120.0, 8, 60.0)
    assert (slow["ratio"], slow["label_zh"], slow["label"]) == (2.0, "低效", "slow")
    assert (slow["speech_rate_cpm"], slow["peer_speech_rate_cpm"]) == (180.0, 260.0)
    assert (slow["dead_air_s"], slow["peer_dead_air_s"]) == (10.0, 0.0)
    assert (slow["repeats"], slow["peer_repeats"]) == (1.0, 0.0)
    assert "2.00 倍" in slow["evidence"] and "与同组相比语速较慢、冷场较多、重复较多" in slow["evidence"]
    # A1 against S (120 x 3), A2 (60 x 3) and F (200 x 2): median of 8 calls is 120 -> 0.5
    assert (rows["A1"]["peer_median_s"], rows["A1"]["ratio"], rows["A1"]["label_zh"]) == (120.0, 0.5, "高效")
    assert (rows["F"]["label_zh"], rows["F"]["label"], rows["F"]["ratio"]) == ("样本不足", "insufficient", 3.33)   # 200 / 60
    assert "样本不足" in rows["F"]["evidence"]
    assert report.table("agents").rows[0]["agent_id"] == "S"          # slow rows first
    assert report.summary["labels"] == {"slow": 1, "efficient": 2, "insufficient": 1}


def test_label_thresholds_come_from_settings():
    report = build_handle_time(agents_calls(), settings={"handle_time": {"slow_ratio": 2.5, "min_calls": 2}})
    rows = {r["agent_id"]: r for r in report.table("agents").rows}
    assert rows["S"]["label_zh"] == "普通" and rows["F"]["label_zh"] == "低效"
    with pytest.raises(ValueError, match="efficient_ratio"):
        build_handle_time(agents_calls(), settings={"handle_time": {"efficient_ratio": 1.5}})
    with pytest.raises(ValueError, match="handle_time.slow"):
        build_handle_time(agents_calls(), settings={"handle_time": {"slow": 2}})


def test_dead_air_counts_silence_inside_each_run_of_the_reasons_turns():
    call = record_from_analysis(make_call(
        "d", turns=[("agent", "您好", 0.0, 4.0), ("customer", "宽带断了", 6.0, 10.0),
                    ("agent", "我帮您看看", 14.0, 20.0), ("customer", "好的谢谢你", 20.0, 25.0)],
        acoustics={"silences": [{"start": 4.0, "end": 6.0, "duration": 2.0},        # inside turns 0-1
                                {"start": 10.0, "end": 14.0, "duration": 4.0},      # between the runs
                                {"start": 22.0, "end": 23.0, "duration": 1.0}]}))  # inside turn 3
    assert dead_air_seconds(call, [0, 1]) == 2.0
    assert dead_air_seconds(call, [2, 3]) == 1.0
    assert dead_air_seconds(call, [0, 2]) == 0.0            # two runs (0-4 s, 14-20 s), no silence inside
    assert dead_air_seconds(call, [0, 1, 2, 3]) == 7.0


def test_repeats_are_customer_turns_said_again_and_agent_questions_asked_again():
    call = record_from_analysis(make_call("r", turns=[
        ("customer", "我家的宽带又断了，一直连不上网", 0, 3),
        ("agent", "请问您的宽带账号是多少？", 3, 5),
        ("customer", "好的", 5, 6),
        ("agent", "我帮您查一下线路情况。", 6, 8),
        ("customer", "好的", 8, 9),                              # short: never a repeat
        ("agent", "我帮您查一下线路情况。", 9, 11),               # said again, but not a question
        ("agent", "请问您的宽带账号是多少呢？", 11, 13),           # question asked again
        ("customer", "我家宽带又断了一直连不上网啊", 13, 16),      # repeats turn 0
        ("customer", "那师傅什么时候能上门来修", 16, 19),          # new
    ]))
    assert repeated_turns(call, list(range(9)), CONF) == 2
    assert repeated_turns(call, [7, 8], CONF) == 1              # only the reason's own turns count
    assert repeated_turns(call, [7], CONF | {"repeat_similarity": 99}) == 0


def test_untimed_reasons_are_left_out_and_counted():
    call = make_call("u", reasons=[("bill_inquiry", [0, 1], 0.0)])
    report = build_handle_time(records(call, timed_call("t", 50.0)))
    assert [r["code"] for r in report.table("reasons").rows] == ["plan_change"]
    assert report.summary["untimed_segments"] == 1


def test_charts_and_note():
    report = build_handle_time(agents_calls())
    reasons, agents = report.charts
    json.dumps([reasons.option, agents.option], ensure_ascii=False)
    assert reasons.option["yAxis"]["data"] == ["套餐变更 (plan_change)"]
    assert [s["data"] for s in reasons.option["series"]] == [[60.0], [200.0]]   # 60 x 6, 120 x 3, 200 x 2
    shown = agents.option["yAxis"]["data"]
    assert shown[0] == "S / 套餐变更 (plan_change)" and len(shown) == 3        # insufficient F not drawn
    assert agents.option["series"][0]["data"][0]["value"] == 2.0
    assert any("whole call" in note for note in report.notes)
