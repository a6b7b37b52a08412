"""Incremental checking: live alerts turn by turn, and the final result equals ``check_call``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope.types import Conversation
from nlp.text import call_text
from qa_rules import RuleRunner, call_view, check_call, default_rulebooks, select_rulebook
from tests.qa_rules.calls import make_view

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "calls"
CALLS = sorted(CORPUS.glob("*.json"))[::6]          # ten calls of every kind, kept fast


def labelled_findings(data: dict) -> dict:
    """Findings built from the labels (the equality under test does not depend on the model)."""
    return {"script_points": [{**p, "score": 1.0} for p in data["labels"]["script_points"]],
            "competitors": [{**c, "mention": c["brand"], "score": 1.0} for c in data["labels"]["competitors"]]}


@pytest.mark.skipif(not CALLS, reason="corpus not available")
@pytest.mark.parametrize("path", CALLS, ids=lambda p: p.stem)
def test_incremental_equals_batch_on_corpus_calls(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    conversation = Conversation.from_dict(data)
    call = call_text(conversation)
    findings = labelled_findings(data)
    view = call_view(call, findings, conversation.acoustics)
    book = select_rulebook(default_rulebooks(), view.meta)
    runner = RuleRunner(book, view.meta, call_id=call.call_id)
    alerted = []
    for turn in call.turns:
        so_far = {"script_points": [p for p in findings["script_points"] if p["turn"] <= turn.index],
                  "competitors": [c for c in findings["competitors"] if c["turn"] <= turn.index]}
        alerted += [v.rule.id for v in runner.add_turn(turn, so_far)]
    batch = check_call(book, view)
    assert runner.result().to_dict(with_evidence=True) == batch.to_dict(with_evidence=True)
    assert set(alerted) <= {v.rule.id for v in batch.violations}


def test_live_alert_arrives_on_the_turn_and_absences_wait_for_the_end():
    view = make_view([("agent", "您好。"), ("customer", "我要投诉。"), ("agent", "这个不归我们管。"),
                      ("customer", "什么？"), ("agent", "嗯。")], meta={"direction": "inbound", "industry": "telecom"})
    book = select_rulebook(default_rulebooks(), view.meta)
    runner = RuleRunner(book, view.meta)
    alerts = [[v.rule.id for v in runner.add_turn(t)] for t in view.all_turns]
    assert alerts == [[], [], ["taboo_words"], [], []]
    final = {v.rule.id for v in runner.result().violations}
    assert {"taboo_words", "closing_missing"} <= final


def test_turns_must_arrive_in_order():
    view = make_view([("agent", "您好。"), ("customer", "嗯。")])
    runner = RuleRunner(default_rulebooks()[0])
    with pytest.raises(ValueError):
        runner.add_turn(view.all_turns[1])


@pytest.mark.parametrize("meta, name", [
    ({"direction": "inbound", "industry": "bank"}, "bank_inbound"),
    ({"direction": "inbound", "industry": "insurance"}, "insurance_inbound"),
    ({"direction": "inbound", "industry": "telecom"}, "telecom_inbound"),
    ({"direction": "inbound", "industry": "ecommerce"}, "ecommerce_inbound"),
    ({"direction": "inbound", "industry": "travel"}, "telecom_inbound"),        # fallback of its direction
    ({"direction": "outbound", "industry": "bank"}, "outbound_sales"),
    ({"direction": "outbound"}, "outbound_sales"),
])
def test_select_rulebook(meta, name):
    assert select_rulebook(default_rulebooks(), meta).name == name
