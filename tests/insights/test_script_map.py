"""Script map on constructed outbound calls whose counts, rates and intervals are worked out by hand."""

from __future__ import annotations

import json

import pytest

from models.insights.script_map import build_script_map, call_transitions, point_sequence
from tests.insights.factory import make_call, records

PITCH_WIN = "现在办理每月立减二十元。"
PITCH_LOSS = "这个套餐必须今天马上办理。"
PITCH_COMMON = "给您介绍一下我们的新套餐。"


def _turns(*agent_texts: str) -> list[tuple[str, str, float, float]]:
    """Agent turns at even indexes 0, 2, 4..., a short customer reply after each."""
    turns = []
    for i, text in enumerate(agent_texts):
        turns += [("agent", text, 4.0 * i, 4.0 * i + 2), ("customer", "嗯。", 4.0 * i + 2, 4.0 * i + 3)]
    return turns


def _won(call_id: str, pitch: str = PITCH_WIN, **kw):
    return make_call(call_id, direction="outbound", outcome="success",
                     turns=_turns("您好，这里是移动客服。", PITCH_COMMON + pitch, "感谢您的接听，再见。"),
                     script_points=[(0, "greeting"), (2, "product_pitch"), (4, "closing")], **kw)


def _lost(call_id: str, **kw):
    return make_call(call_id, direction="outbound", outcome="refused",
                     turns=_turns("您好，这里是移动客服。", PITCH_COMMON + PITCH_LOSS, "您再考虑考虑吧。"),
                     script_points=[(0, "greeting"), (2, "product_pitch"), (4, "objection_handling")], **kw)


def _base_calls():
    """3 won calls greeting > pitch > closing, 2 lost calls greeting > pitch > objection_handling."""
    return [_won("w1"), _won("w2"), _won("w3"), _lost("l1"), _lost("l2")]


def _row(table, **match):
    rows = [r for r in table.rows if all(r[k] == v for k, v in match.items())]
    assert len(rows) == 1, (match, rows)
    return rows[0]


def test_summary_counts_only_outbound_and_keeps_callback_out_of_the_rates():
    calls = _base_calls() + [
        make_call("cb", direction="outbound", outcome="callback", script_points=[(0, "greeting"), (0, "closing")]),
        make_call("nolabel", direction="outbound", script_points=[(0, "greeting")]),
        make_call("in1", direction="inbound", outcome="success", script_points=[(0, "greeting")]),
    ]
    report = build_script_map(records(*calls))
    s = report.summary
    assert (s["outbound_calls"], s["successes"], s["failures"], s["undecided"]) == (7, 3, 2, 2)
    assert s["undecided_by_outcome"] == {"callback": 1, "unknown": 1}
    assert s["base_rate"] == 0.6
    greeting = _row(report.table("points"), point="greeting")
    assert (greeting["calls_with"], greeting["successes"], greeting["failures"]) == (5, 3, 2)
    closing = _row(report.table("points"), point="closing")
    assert (closing["calls_with"], closing["successes"]) == (3, 3)   # the callback call's closing is not counted


def test_point_rates_wilson_interval_and_lift():
    report = build_script_map(records(*_base_calls()))
    points = report.table("points")
    greeting = _row(points, point="greeting")
    assert greeting["name"] == "开场问候"
    assert greeting["success_rate"] == 0.6 and greeting["lift"] == 1.0
    closing = _row(points, point="closing")
    # Wilson 3/3, z = 1.96: centre (1 + z²/6) / (1 + z²/3) = 0.71925, half-width z·sqrt(z²/36) / (1 + z²/3) = 0.28075
    assert closing["success_rate"] == 1.0
    assert closing["ci_low"] == pytest.approx(0.4385, abs=1e-4) and closing["ci_high"] == 1.0
    assert closing["lift"] == pytest.approx(1 / 0.6, abs=1e-4)
    objection = _row(points, point="objection_handling")
    # Wilson 0/2: centre = half-width = (z²/4) / (1 + z²/2) = 0.32881, so [0, 0.65763]
    assert (objection["success_rate"], objection["lift"], objection["ci_low"]) == (0.0, 0.0, 0.0)
    assert objection["ci_high"] == pytest.approx(0.6576, abs=1e-4)


def test_transition_counts_including_start_and_end():
    report = build_script_map(records(*_base_calls()))
    counts = {(r["from"], r["to"]): (r["success_calls"], r["failure_calls"]) for r in report.table("transitions").rows}
    assert counts == {
        ("START", "greeting"): (3, 2),
        ("greeting", "product_pitch"): (3, 2),
        ("product_pitch", "closing"): (3, 0),
        ("closing", "END"): (3, 0),
        ("product_pitch", "objection_handling"): (0, 2),
        ("objection_handling", "END"): (0, 2),
    }
    to_closing = _row(report.table("transitions"), **{"from": "product_pitch", "to": "closing"})
    assert to_closing["success_rate"] == 1.0 and to_closing["lift"] == pytest.approx(1.6667, abs=1e-4)
    assert to_closing["to_name"] == "结束语"


def test_consecutive_repeats_collapse_and_a_transition_counts_once_per_call():
    call = make_call("r1", direction="outbound", outcome="success",
                     script_points=[(0, "greeting"), (2, "greeting"), (4, "product_pitch"), (6, "objection_handling"),
                                    (8, "product_pitch"), (10, "objection_handling"), (12, "objection_handling")])
    record = records(call)[0]
    assert point_sequence(record) == ["greeting", "product_pitch", "objection_handling", "product_pitch",
                                      "objection_handling"]
    assert call_transitions(point_sequence(record)) == {
        ("START", "greeting"), ("greeting", "product_pitch"), ("product_pitch", "objection_handling"),
        ("objection_handling", "product_pitch"), ("objection_handling", "END")}
    report = build_script_map([record])
    pitch_obj = _row(report.table("transitions"), **{"from": "product_pitch", "to": "objection_handling"})
    assert pitch_obj["success_calls"] == 1
    assert _row(report.table("points"), point="objection_handling")["calls_with"] == 1
    assert report.table("sequences").rows[0]["steps"] == 5


def test_typical_order_of_winning_calls():
    calls = [_won("w1"), _won("w2"),
             make_call("w3", direction="outbound", outcome="success",
                       script_points=[(0, "greeting"), (2, "identity_check"), (4, "product_pitch"), (6, "closing")]),
             _lost("l1")]
    report = build_script_map(records(*calls))
    order = [(r["rank"], r["point"], r["median_position"], r["share"]) for r in report.table("typical_order").rows]
    # pitch at steps 2, 2, 3 -> median 2; closing at 3, 3, 4 -> 3; identity_check only in w3, at step 2
    assert order == [(1, "greeting", 1, 1.0), (2, "product_pitch", 2, 1.0), (3, "identity_check", 2, 0.3333),
                     (4, "closing", 3, 1.0)]
    assert report.summary["winning_order"] == ["greeting", "product_pitch", "closing"]


def test_phrasings_pick_the_sentence_distinctive_for_each_side():
    report = build_script_map(records(*_base_calls()))
    pitch = [r for r in report.table("phrasings").rows if r["point"] == "product_pitch"]
    won = [r for r in pitch if r["side"] == "success"]
    lost = [r for r in pitch if r["side"] == "failure"]
    assert won[0]["sentence"] == PITCH_WIN and won[0]["score"] > 0
    assert lost[0]["sentence"] == PITCH_LOSS and lost[0]["score"] > 0
    # the shared sentence leans to neither side as much; identical texts and calls are used once
    assert [r["sentence"] for r in won] == [PITCH_WIN, PITCH_COMMON]
    assert [r["sentence"] for r in lost] == [PITCH_LOSS, PITCH_COMMON]
    assert len({r["call_id"] for r in won}) == len(won)
    assert won[0]["turn"] == 2
    assert won[0]["words"] and all(w in PITCH_WIN and w not in PITCH_COMMON for w in won[0]["words"])


def test_phrasings_at_most_three_per_side():
    calls = [_won(f"w{i}", pitch=f"第{n}种说法立减优惠活动。") for i, n in enumerate("一二三四五")]
    report = build_script_map(records(*calls))
    won = [r for r in report.table("phrasings").rows if r["point"] == "product_pitch" and r["side"] == "success"]
    assert len(won) == 3
    assert not [r for r in report.table("phrasings").rows if r["side"] == "failure"]


def _assert_acyclic(links: list[dict]) -> None:
    graph: dict[str, list[str]] = {}
    for link in links:
        graph.setdefault(link["source"], []).append(link["target"])
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        assert state.get(node) != 1, f"cycle through {node}"
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, []):
            visit(nxt)
        state[node] = 2

    for node in list(graph):
        visit(node)


def test_sankey_is_json_serialisable_acyclic_and_capped():
    looping = make_call("loop", direction="outbound", outcome="success",
                        script_points=[(0, "greeting"), (2, "product_pitch"), (4, "objection_handling"),
                                       (6, "product_pitch"), (8, "objection_handling"), (10, "closing")])
    report = build_script_map(records(*_base_calls(), looping), max_steps=4)
    json.dumps([c.option for c in report.charts], ensure_ascii=False)
    sankeys = [c.option["series"][0] for c in report.charts if c.option["series"][0]["type"] == "sankey"]
    assert len(sankeys) == 2
    won, lost = sankeys
    for series in sankeys:
        _assert_acyclic(series["links"])
        names = {n["name"] for n in series["data"]}
        assert {link["source"] for link in series["links"]} | {link["target"] for link in series["links"]} <= names
    links = {(link["source"], link["target"]): link["value"] for link in won["links"]}
    assert links[("开始", "1·开场问候")] == 4
    assert links[("2·产品推荐", "3·结束语")] == 3
    assert links[("4·产品推荐", "5·…")] == 1          # the looping call has 6 steps, the chart shows 4
    assert links[("5·…", "结束·成交")] == 1
    assert links[("3·结束语", "结束·成交")] == 3
    assert {(link["source"], link["target"]): link["value"] for link in lost["links"]} == {
        ("开始", "1·开场问候"): 2, ("1·开场问候", "2·产品推荐"): 2, ("2·产品推荐", "3·异议处理"): 2,
        ("3·异议处理", "结束·拒绝"): 2}


def test_custom_outcome_labels_and_no_decided_calls():
    calls = [make_call("a", direction="outbound", outcome="won", script_points=[(0, "greeting")]),
             make_call("b", direction="outbound", outcome="success", script_points=[(0, "greeting")])]
    report = build_script_map(records(*calls), success="won", failure=("lost",))
    assert (report.summary["successes"], report.summary["undecided"]) == (1, 1)
    empty = build_script_map(records(make_call("c", direction="outbound", outcome="callback")))
    assert empty.summary["base_rate"] is None
    assert empty.table("points").rows == []
    with pytest.raises(ValueError, match="both success and failure"):
        build_script_map([], success=("x",), failure=("x",))
