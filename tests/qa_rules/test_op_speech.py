"""silence / overtalk / duration / turn_count / speech_rate: hit and just-miss on timed calls."""

from __future__ import annotations

import pytest

from tests.qa_rules.calls import make_view, run_op


def gap_call(agent_before: str, gap: float) -> list[tuple]:
    return [("agent", "您好，请问有什么可以帮您？", 0.0, 3.0), ("customer", "我查一下话费。", 3.5, 5.0),
            ("agent", agent_before, 5.5, 7.0), ("agent", "让您久等了，查到了。", 7.0 + gap, 9.0 + gap)]


@pytest.mark.parametrize("agent_before, gap, hits", [
    ("好的。", 10.5, 1),
    ("好的。", 9.5, 0),                       # just miss: under 10 s
    ("好的，请您稍等，我帮您查询。", 15.0, 0),   # announced hold
])
def test_silence_from_turn_gaps(agent_before, gap, hits):
    found = run_op("silence", {"longer_than": 10}, make_view(gap_call(agent_before, gap)))
    assert len(found) == hits
    if hits:
        assert found[0].turn == 2 and found[0].start == 7.0


def test_silence_from_acoustics_spans():
    rows = [("agent", "好的。", 0.0, 2.0), ("customer", "嗯。", 14.0, 15.0)]
    assert len(run_op("silence", {"longer_than": 10}, make_view(rows, silences=[(2.0, 14.0)]))) == 1
    assert run_op("silence", {"longer_than": 10}, make_view(rows, silences=[(2.0, 11.0)])) == []


def overtalk_call(overlaps: list[float]) -> list[tuple]:
    rows, t = [], 0.0
    for over in overlaps:
        rows.append(("customer", "我跟你说这个问题很久了。", t, t + 4.0))
        rows.append(("agent", "先生您听我说。", t + 4.0 - over, t + 6.0))
        t += 7.0
    return rows


@pytest.mark.parametrize("overlaps, min_count, hits", [
    ([1.5, 1.5], 2, 2),
    ([1.5, 0.3], 2, 0),          # just miss: second overlap shorter than the delay
    ([1.5], 2, 0),               # just miss: once only
    ([1.5], 1, 1),
])
def test_overtalk_from_turn_times(overlaps, min_count, hits):
    view = make_view(overtalk_call(overlaps))
    found = run_op("overtalk", {"min_overlap": 1.0, "min_count": min_count}, view)
    assert len(found) == hits and all(e.role == "agent" for e in found)


def test_overtalk_from_acoustics():
    view = make_view(overtalk_call([0.0, 0.0]), overlaps=[(2.5, 4.0), (9.5, 11.0)])
    assert len(run_op("overtalk", {"min_overlap": 1.0, "min_count": 2}, view)) == 2


@pytest.mark.parametrize("params, hit", [({"below": 20}, True), ({"below": 10}, False),
                                         ({"above": 15}, False), ({"above": 10}, True)])
def test_duration(params, hit):
    view = make_view(gap_call("好的。", 5.0))       # ends at 14 s
    assert bool(run_op("duration", params, view)) is hit


@pytest.mark.parametrize("params, hit", [({"role": "agent", "above": 2}, True), ({"role": "agent", "above": 3}, False),
                                         ({"role": "customer", "below": 2}, True), ({"role": "customer", "below": 1}, False)])
def test_turn_count(params, hit):
    assert bool(run_op("turn_count", params, make_view(gap_call("好的。", 1.0)))) is hit


@pytest.mark.parametrize("seconds, hit", [(2.5, True), (4.0, False)])
def test_speech_rate(seconds, hit):
    view = make_view([("agent", "这个套餐每月三十八元包含十个G流量", 0.0, seconds)])   # 16 characters
    assert bool(run_op("speech_rate", {"role": "agent", "above": 300}, view)) is hit
