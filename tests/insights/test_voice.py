"""Voice of the customer: constructed calls with known rankings, changes, spikes; the settings loader."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest

from models.insights.settings import DEFAULTS, load_settings, merged_settings
from models.insights.voice import build_voice, poisson_upper_tail
from tests.insights.factory import make_call, records


def reasons_of(*codes: str) -> list[tuple[str, list[int], float]]:
    """Reasons in the factory's form, primary first, each owning one turn."""
    return [(code, [i], 3.0) for i, code in enumerate(codes)]


def day_calls(prefix: str, day: date, codes_per_call: list[tuple[str, ...]], agent: str = "A1") -> list[dict]:
    return [make_call(f"{prefix}-{day}-{i}", day=day.isoformat(), agent=agent, reasons=reasons_of(*codes))
            for i, codes in enumerate(codes_per_call)]


# --- ranking, shares, breakdown, change ----------------------------------------------------------


def ranking_calls():
    return records(
        make_call("n1", day="2026-10-20", agent="A1", reasons=reasons_of("bill_dispute", "data_overage")),
        make_call("n2", day="2026-10-20", agent="A1", reasons=reasons_of("bill_dispute")),
        make_call("n3", day="2026-10-21", agent="A2", reasons=reasons_of("data_overage", "bill_dispute")),
        make_call("n4", day="2026-10-21", agent="A2", reasons=reasons_of("plan_change")),
        make_call("p1", day="2026-10-18", reasons=reasons_of("bill_dispute")),
        make_call("p2", day="2026-10-18", reasons=reasons_of("plan_change")),
        make_call("p3", day="2026-10-19", reasons=reasons_of("plan_change")),
        make_call("p4", day="2026-10-19", reasons=reasons_of("network_quality")),
        make_call("old", day="2026-10-10", reasons=reasons_of("roaming")),   # in no compared period
    )


def test_ranking_counts_every_reason_and_primary_with_exact_shares_and_change():
    report = build_voice(ranking_calls(), period=(date(2026, 10, 20), date(2026, 10, 21)))
    rows = {r["code"]: r for r in report.table("ranking").rows}
    assert [r["code"] for r in report.table("ranking").rows] == [
        "bill_dispute", "data_overage", "plan_change", "network_quality"]
    assert rows["bill_dispute"] == {
        "rank": 1, "code": "bill_dispute", "reason": "扣费争议", "calls": 3, "share": 0.75,
        "primary_calls": 2, "primary_share": 0.5, "previous_calls": 1, "previous_share": 0.25,
        "change": 2, "change_pct": 2.0, "share_change": 0.5,
    }
    assert (rows["data_overage"]["calls"], rows["data_overage"]["primary_calls"]) == (2, 1)
    assert rows["data_overage"]["change_pct"] is None            # nothing to compare with
    assert (rows["plan_change"]["change"], rows["plan_change"]["change_pct"]) == (-1, -0.5)
    assert rows["plan_change"]["share_change"] == -0.25
    assert (rows["network_quality"]["calls"], rows["network_quality"]["change_pct"]) == (0, -1.0)
    assert "roaming" not in rows
    assert report.summary["previous"] == ["2026-10-18", "2026-10-19"]   # same length, just before
    assert report.summary["calls"] == 4 and report.summary["previous_calls"] == 4
    assert report.summary["top_reason"] == "bill_dispute"


def test_explicit_previous_period_is_used():
    report = build_voice(ranking_calls(), period=(date(2026, 10, 20), date(2026, 10, 21)),
                         previous=(date(2026, 10, 10), date(2026, 10, 10)))
    rows = {r["code"]: r for r in report.table("ranking").rows}
    assert rows["roaming"]["previous_calls"] == 1 and rows["roaming"]["previous_share"] == 1.0
    assert rows["bill_dispute"]["previous_calls"] == 0


def test_breakdown_by_agent_has_shares_within_the_agent_and_no_empty_queue_dimension():
    report = build_voice(ranking_calls(), period=(date(2026, 10, 20), date(2026, 10, 21)))
    rows = report.table("breakdown").rows
    agents = {(r["value"], r["code"]): (r["value_calls"], r["calls"], r["primary_calls"], r["share"])
              for r in rows if r["dimension"] == "agent"}
    assert agents == {
        ("A1", "bill_dispute"): (2, 2, 2, 1.0), ("A1", "data_overage"): (2, 1, 0, 0.5),
        ("A2", "data_overage"): (2, 1, 1, 0.5), ("A2", "bill_dispute"): (2, 1, 0, 0.5),
        ("A2", "plan_change"): (2, 1, 1, 0.5),
    }
    industry = [(r["value"], r["code"], r["share"]) for r in rows if r["dimension"] == "industry"]
    assert industry == [("telecom", "bill_dispute", 0.75), ("telecom", "data_overage", 0.5),
                        ("telecom", "plan_change", 0.25)]
    assert not [r for r in rows if r["dimension"] == "queue"]      # no call has a queue


def test_default_period_is_the_last_seven_days_ending_at_the_latest_call_day():
    report = build_voice(ranking_calls())
    assert report.summary["period"] == ["2026-10-15", "2026-10-21"]
    assert report.summary["previous"] == ["2026-10-08", "2026-10-14"]
    assert report.summary["calls"] == 8 and report.summary["previous_calls"] == 1


# --- spikes -------------------------------------------------------------------------------------

PERIOD = date(2026, 10, 30)


def spike_calls():
    """28 baseline days (10-02..10-29): bill_inquiry 1 a day, plan_change 2 a day, data_overage once,
    network_quality on 3 days, roaming never; then the one-day period 10-30."""
    calls = []
    for i in range(28):
        day = PERIOD - timedelta(days=28 - i)
        calls += day_calls("b", day, [("bill_inquiry",), ("plan_change",), ("plan_change",)])
        if i == 5:
            calls += day_calls("d", day, [("data_overage",)])
        if i in (3, 10, 20):   # network_quality: mean 3/28 a day
            calls += day_calls("q", day, [("network_quality",)])
    calls += day_calls("now", PERIOD, [("bill_inquiry",)] * 10 + [("plan_change",)] * 2 + [("roaming",)]
                       + [("data_overage",)] * 2 + [("network_quality",)] * 1)
    return records(*calls)


def test_spike_new_and_steady_reasons():
    report = build_voice(spike_calls(), period=(PERIOD, PERIOD))
    rows = {r["code"]: r for r in report.table("spikes").rows}
    assert set(rows) == {"bill_inquiry", "roaming"}
    spike = rows["bill_inquiry"]
    assert (spike["kind"], spike["kind_zh"], spike["calls"], spike["baseline_calls"], spike["baseline_days"]) == (
        "spike", "突增", 10, 28, 28)
    assert spike["expected"] == 1.0 and spike["ratio"] == 10.0
    exact = 1 - sum(math.exp(-1) / math.factorial(k) for k in range(10))   # P(X >= 10 | mean 1)
    assert spike["p_value"] == pytest.approx(exact, rel=1e-2)
    assert "10 通" in spike["why"] and "预期 1.0 通" in spike["why"] and "10.0 倍" in spike["why"]
    new = rows["roaming"]
    assert (new["kind"], new["kind_zh"], new["calls"], new["baseline_calls"]) == ("new", "新出现", 1, 0)
    assert "从未出现" in new["why"]
    assert report.summary["spikes"] == ["bill_inquiry"] and report.summary["new"] == ["roaming"]
    assert report.summary["baseline"] == ["2026-10-02", "2026-10-29"]
    # plan_change: 2 now, 2 expected (steady); data_overage: 2 vs 1/28 a day, p < 0.01 but under 3 calls;
    # network_quality: 1 vs 3/28 a day, too few too.


def test_spike_thresholds_come_from_settings():
    strict = build_voice(spike_calls(), period=(PERIOD, PERIOD), settings={"voice": {"spike_min_count": 11}})
    assert [r["code"] for r in strict.table("spikes").rows] == ["roaming"]
    loose = build_voice(spike_calls(), period=(PERIOD, PERIOD), settings={"voice": {"spike_min_count": 2}})
    assert {r["code"] for r in loose.table("spikes").rows} == {"bill_inquiry", "roaming", "data_overage"}


def test_no_calls_before_the_period_means_no_spikes_or_new():
    calls = records(*day_calls("x", PERIOD, [("bill_inquiry",)] * 5))
    report = build_voice(calls, period=(PERIOD, PERIOD))
    assert report.table("spikes").rows == [] and report.summary["baseline"] is None
    assert any("no baseline" in note for note in report.notes)


def test_poisson_upper_tail_known_values():
    assert poisson_upper_tail(3, 1.0) == pytest.approx(1 - 2.5 / math.e)   # 1 - P(0) - P(1) - P(2)
    assert poisson_upper_tail(0, 4.0) == 1.0
    assert poisson_upper_tail(2, 0.0) == 0.0
    stats = pytest.importorskip("scipy.stats")
    for count, mean in [(10, 1.0), (3, 5.0), (40, 12.5), (200, 100.0), (1, 0.01)]:
        assert poisson_upper_tail(count, mean) == pytest.approx(stats.poisson.sf(count - 1, mean), rel=1e-9)


# --- charts ----------------------------------------------------------------------------------------


def test_charts_trend_over_baseline_and_period_and_ranking_bars():
    report = build_voice(spike_calls(), period=(PERIOD, PERIOD))
    ranking, trend = report.charts
    json.dumps([ranking.option, trend.option], ensure_ascii=False)
    assert ranking.option["yAxis"]["data"][0] == "话费/账单查询 (bill_inquiry)"
    assert ranking.option["series"][0]["data"][0] == 10
    days = trend.option["xAxis"]["data"]
    assert days[0] == "2026-10-02" and days[-1] == "2026-10-30" and len(days) == 29
    series = {s["name"]: s["data"] for s in trend.option["series"]}
    assert len(series) <= 8
    assert series["话费/账单查询 (bill_inquiry)"][-1] == 10 and series["话费/账单查询 (bill_inquiry)"][0] == 1
    assert "markArea" in trend.option["series"][0]


# --- settings --------------------------------------------------------------------------------------


def test_shipped_settings_file_matches_the_defaults():
    settings = load_settings()
    assert settings["voice"] == DEFAULTS["voice"]
    assert settings["handle_time"] == DEFAULTS["handle_time"]


def test_settings_file_values_merge_over_defaults(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("voice:\n  baseline_days: 14\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings["voice"]["baseline_days"] == 14
    assert settings["voice"]["spike_min_count"] == DEFAULTS["voice"]["spike_min_count"]
    assert settings["handle_time"] == DEFAULTS["handle_time"]


@pytest.mark.parametrize(("text", "named"), [
    ("voice:\n  spike_threshold: 3\n", "voice.spike_threshold"),        # unknown key
    ("voice:\n  baseline_days: many\n", "voice.baseline_days"),         # wrong type
    ("voice:\n  spike_p_value: -0.1\n", "voice.spike_p_value"),         # negative
    ("voices:\n  baseline_days: 14\n", "'voices'"),                     # unknown section
])
def test_bad_settings_raise_naming_file_and_key(tmp_path, text, named):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="mine.yaml") as error:
        load_settings(path)
    assert named in str(error.value)


def test_builder_refuses_bad_settings_mapping():
    with pytest.raises(ValueError, match="voice.bogus"):
        build_voice(ranking_calls(), settings={"voice": {"bogus": 1}})
    assert merged_settings({"voice": {"spike_min_ratio": 3}})["voice"]["spike_min_ratio"] == 3.0
