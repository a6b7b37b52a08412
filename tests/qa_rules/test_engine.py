"""Scorecard and result shape: points per dimension, bonuses, fatal items, scope by call metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_rules import check_call, load_rulebook
from tests.qa_rules.calls import make_view

BOOK = """\
name: scoring
scorecard:
  dimensions:
    attitude: {name: 态度, weight: 50}
    closing: {name: 结束语, weight: 50}
rules:
  - id: taboo
    name: 服务禁语
    code: forbidden_phrase
    dimension: attitude
    points: 20
    per_hit: true
    when: {keyword: {any: [不归我管, 你自己查]}}
  - id: threat
    name: 辱骂客户
    dimension: attitude
    fatal: true
    severity: critical
    when: {keyword: {any: [滚]}}
  - id: closing_missing
    name: 未规范结束
    code: no_closing
    dimension: closing
    points: 30
    when: {position: {last: 1, when: {not: {keyword: {any: [再见]}}}}}
  - id: thanks_bonus
    name: 致谢
    dimension: closing
    effect: add
    points: 10
    when: {keyword: {any: [感谢您]}}
  - id: outbound_only
    name: 外呼未告知录音
    code: missing_disclosure
    dimension: closing
    points: 50
    scope: {direction: outbound}
    when: {not: {keyword: {any: [录音]}}}
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path: Path = tmp_path_factory.mktemp("book") / "scoring.yaml"
    path.write_text(BOOK, encoding="utf-8")
    return load_rulebook(path)


@pytest.mark.parametrize("agent_lines, meta, score, rules", [
    (["您好。", "感谢您的来电，再见。"], {"direction": "inbound"}, 100, ["thanks_bonus"]),
    (["这不归我管。", "再见。"], {"direction": "inbound"}, 80, ["taboo"]),
    (["这不归我管，你自己查。", "不归我管。"], {"direction": "inbound"}, 30, ["taboo", "closing_missing"]),
    (["您好。", "好的。"], {"direction": "inbound"}, 70, ["closing_missing"]),
    (["您好。", "感谢您。"], {"direction": "inbound"}, 80, ["closing_missing", "thanks_bonus"]),
    (["您好。", "再见。"], {"direction": "outbound"}, 50, ["outbound_only"]),
    (["滚。", "再见。"], {"direction": "inbound"}, 0, ["threat"]),
])
def test_scorecard(book, agent_lines, meta, score, rules):
    rows = [r for line in agent_lines for r in (("customer", "嗯。"), ("agent", line))]
    result = check_call(book, make_view(rows, meta=meta))
    assert result.score == score
    assert [v.rule.id for v in result.violations] == rules
    assert result.fatal is (score == 0)


def test_result_dict_shape(book):
    rows = [("agent", "您好。", 0.0, 1.0), ("customer", "问个事。", 1.5, 3.0),
            ("agent", "这个不归我管。", 3.5, 5.0), ("agent", "好的。", 6.0, 7.0)]
    out = check_call(book, make_view(rows, meta={"direction": "inbound"})).to_dict()
    assert set(out) == {"rulebook", "score", "fatal", "violations", "dimensions"}
    taboo = out["violations"][0]
    assert taboo["rule"] == "taboo" and taboo["name"] == "服务禁语" and taboo["code"] == "forbidden_phrase"
    assert taboo["turn"] == 2 and taboo["start"] == 3.5 and "不归我管" in taboo["evidence"]
    assert taboo["operator"] == "keyword" and "at 00:03" in taboo["explanation"]
    closing = out["violations"][1]
    assert closing["operator"] == "not" and closing["turn"] == 3
    assert out["dimensions"]["attitude"] == {"name": "态度", "weight": 50, "score": 30.0}
    detailed = check_call(book, make_view(rows)).to_dict(with_evidence=True)
    assert detailed["violations"][0]["details"][0]["rule_id"] == "taboo"
