"""script_point and finding operators on constructed findings: hit and just-miss."""

from __future__ import annotations

import pytest

from tests.qa_rules.calls import make_view, run_op

ROWS = [("agent", "您好，中国移动。"), ("customer", "我要改套餐。"), ("agent", "请提供机主姓名和身份证后四位。"),
        ("customer", "张三，一二三四。"), ("agent", "好的，已经帮您改好了。"), ("customer", "谢谢。")]


def points(*pairs: tuple[int, str], score: float = 0.9) -> dict:
    return {"script_points": [{"turn": t, "point": p, "score": score} for t, p in pairs]}


@pytest.mark.parametrize("findings, params, turns", [
    (points((0, "greeting")), {"point": "greeting"}, [0]),
    (points((0, "greeting")), {"point": "closing"}, []),
    (points((0, "greeting"), score=0.4), {"point": "greeting", "min_score": 0.5}, []),   # just miss: unsure
    (points((0, "greeting")), {"point": "closing", "mode": "absent"}, [0]),
    (points((0, "greeting")), {"point": "greeting", "mode": "absent"}, []),
    (points((2, "identity_check"), (4, "solution")),
     {"point": "identity_check", "mode": "before", "then": ["solution"]}, [2]),
    (points((4, "identity_check"), (2, "solution")),
     {"point": "identity_check", "mode": "before", "then": ["solution"]}, []),
    (points((4, "solution")), {"point": "identity_check", "mode": "not_before", "then": ["solution"]}, [4]),
    (points((2, "identity_check"), (4, "solution")),
     {"point": "identity_check", "mode": "not_before", "then": ["solution"]}, []),          # just miss: verified first
    (points((0, "greeting")), {"point": "identity_check", "mode": "not_before", "then": ["solution"]}, []),
])
def test_script_point(findings, params, turns):
    assert [e.turn for e in run_op("script_point", params, make_view(ROWS, findings=findings))] == turns


FINDINGS = {
    "competitors": [{"turn": 1, "brand": "中国联通", "mention": "联通", "dimension": "price", "score": 0.9}],
    "lead": {"intent": "medium", "product": "流量包", "score": 0.7, "turns": [3]},
    "reasons": [{"code": "plan_change", "score": 0.8, "turns": [1], "seconds": 2.0}],
    "sentiment": {"customer": -0.2, "agent": 0.3, "turns": [0.5, -0.6, 0.2, -0.2, 0.4, 0.1]},
}


@pytest.mark.parametrize("params, turns", [
    ({"kind": "competitor"}, [1]),
    ({"kind": "competitor", "dimension": "network"}, []),
    ({"kind": "competitor", "brand": "中国电信"}, []),
    ({"kind": "lead", "min_intent": "medium"}, [3]),
    ({"kind": "lead", "min_intent": "high"}, []),                  # just miss: medium < high
    ({"kind": "reason", "code": "plan_change"}, [1]),
    ({"kind": "reason", "code": "plan_change", "min_score": 0.9}, []),
    ({"kind": "sentiment", "role": "customer", "below": -0.5}, [1]),
    ({"kind": "sentiment", "role": "customer", "below": -0.6}, []),  # just miss: -0.6 is not below -0.6
])
def test_finding(params, turns):
    assert [e.turn for e in run_op("finding", params, make_view(ROWS, findings=FINDINGS))] == turns


def test_findings_outside_window_are_ignored():
    view = make_view(ROWS, findings=FINDINGS)
    window = view.window(view.turns[2:])
    assert run_op("finding", {"kind": "competitor"}, window) == []
