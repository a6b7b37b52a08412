"""and / or / not / position / near / without_prior / ref: truth and the evidence each keeps."""

from __future__ import annotations

import pytest

from qa_rules.nodes import Parser
from tests.qa_rules.calls import make_view, run_node

ROWS = [("agent", "喂，什么事？"), ("customer", "我要改套餐。"), ("agent", "套餐改好了。"),
        ("customer", "谢谢。"), ("agent", "嗯。")]
HELLO = {"keyword": {"any": ["您好", "你好"]}}
CHANGED = {"keyword": {"any": ["改好了"]}}
BYE = {"keyword": {"any": ["再见"]}}


@pytest.mark.parametrize("raw, matched, turns", [
    ({"and": [CHANGED, {"keyword": {"any": ["什么事"]}}]}, True, [2, 0]),
    ({"and": [CHANGED, BYE]}, False, []),
    ([CHANGED, {"keyword": {"any": ["喂"]}}], True, [2, 0]),          # a list means and
    ({"or": [BYE, CHANGED]}, True, [2]),                               # evidence only of the child that held
    ({"or": [BYE, HELLO]}, False, []),
    ({"not": BYE}, True, [0]),                                         # absence evidence: first turn searched
    ({"not": CHANGED}, False, []),
    ({"position": {"first": 1, "when": {"not": HELLO}}}, True, [0]),
    ({"position": {"last": 1, "when": {"not": BYE}}}, True, [4]),
    ({"position": {"last": 1, "when": CHANGED}}, False, []),           # just miss: said one turn earlier
    ({"position": {"last": 2, "when": CHANGED}}, True, [2]),
    ({"near": {"when": CHANGED, "anchor": {"keyword": {"any": ["改套餐"], "role": "customer"}}, "after": 1}},
     True, [2, 1]),
    ({"near": {"when": CHANGED, "anchor": {"keyword": {"any": ["谢谢"], "role": "customer"}}, "before": 0}},
     False, []),
])
def test_combinators(raw, matched, turns):
    ok, evidence = run_node(raw, make_view(ROWS))
    assert ok is matched
    assert [e.turn for e in evidence] == turns


@pytest.mark.parametrize("rows, matched", [
    (ROWS, True),
    ([("agent", "请报一下身份证后四位。"), *ROWS], False),              # verified before the change
    ([*ROWS, ("agent", "请报一下身份证后四位。")], True),               # verified only after: still a violation
])
def test_without_prior(rows, matched):
    raw = {"without_prior": {"when": CHANGED, "prior": {"keyword": {"any": ["身份证后四位"]}}}}
    ok, evidence = run_node(raw, make_view(rows))
    assert ok is matched
    if ok:
        assert evidence[0].text.startswith("套餐改好了") and evidence[-1].operator == "without_prior"


def test_position_seconds_window():
    rows = [("agent", "您好。", 0.0, 1.0), ("agent", "再见。", 50.0, 52.0)]
    assert run_node({"position": {"first_s": 5, "when": BYE}}, make_view(rows))[0] is False
    assert run_node({"position": {"last_s": 5, "when": BYE}}, make_view(rows))[0] is True


def test_ref_reuses_a_named_condition():
    parser = Parser()
    parser.conditions["bye"] = parser.parse(BYE, ("conditions", "bye"), "agent")
    node = parser.parse({"not": {"ref": "bye"}}, ("when",), "agent")
    assert node is not None and node.run(make_view(ROWS))[0] is True
    assert parser.parse({"ref": "hello"}, ("when",), "agent") is None
    assert parser.problems[-1][1].startswith("E110")


@pytest.mark.parametrize("raw, code", [
    ({"keyword": {"any": ["a"]}, "regex": {"pattern": "a"}}, "E106"),
    ("keyword", "E106"),
    ({"kewyord": {"any": ["a"]}}, "E101"),
    ({"and": []}, "E108"),
    ({"regex": {"pattern": "("}}, "E103"),
    ({"regex": {"pattern": "a", "flags": "i"}}, "E102"),
    ({"position": {"when": HELLO}}, "E102"),
])
def test_parse_problems(raw, code):
    parser = Parser()
    assert parser.parse(raw, ("when",), "agent") is None
    assert parser.problems and parser.problems[0][1].startswith(code)
