"""`eval` on a tiny corpus whose right answers are worked out by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from models.evaluate import evaluate, same_product

LABELS = [
    {"reasons": ["bill_dispute", "plan_change"],
     "script_points": [{"turn": 0, "point": "greeting"}, {"turn": 2, "point": "explanation"}],
     "competitors": [{"turn": 1, "brand": "中国联通", "dimension": "price"}],
     "lead": {"intent": "high", "product": "流量包"}},
    {"reasons": ["network_quality"],
     "script_points": [{"turn": 0, "point": "greeting"}, {"turn": 2, "point": "solution"}],
     "competitors": [],
     "lead": {"intent": "none", "product": ""}},
]
ANALYSES = [
    {"reasons": [{"code": "bill_dispute"}, {"code": "roaming"}],                    # 1 right, 1 wrong, 1 missed
     "script_points": [{"turn": 0, "point": "greeting"}, {"turn": 2, "point": "solution"}],
     "competitors": [{"turn": 1, "brand": "中国联通", "dimension": "network"}],     # hit, wrong dimension
     "lead": {"intent": "medium", "product": "流量月包"}},                          # same product, other words
    {"reasons": [{"code": "network_quality"}],
     "script_points": [{"turn": 0, "point": "greeting"}, {"turn": 2, "point": "solution"}],
     "competitors": [{"turn": 3, "brand": "中国电信", "dimension": "price"}],       # false alarm
     "lead": {"intent": "low"}},                                                    # false lead
]


def test_metrics_by_hand():
    m = evaluate(list(zip(ANALYSES, LABELS, strict=True)))
    assert m["reasons"]["micro"]["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["reasons"]["micro"]["recall"] == pytest.approx(2 / 3, abs=1e-4)
    # per code F1: bill_dispute 1, network_quality 1, plan_change 0, roaming 0
    assert m["reasons"]["macro_f1"] == pytest.approx(0.5)
    assert m["reasons"]["primary_accuracy"] == 1.0
    # points: greeting 2/2; explanation missed once; solution 1 right 1 false
    assert m["script_points"]["micro"]["f1"] == pytest.approx(0.75)
    assert m["script_points"]["per_code"]["solution"]["precision"] == 0.5
    assert m["competitors"]["micro"]["precision"] == 0.5 and m["competitors"]["micro"]["recall"] == 1.0
    assert m["competitors"]["dimension_accuracy"] == 0.0
    assert m["lead"]["any"]["precision"] == 0.5 and m["lead"]["any"]["recall"] == 1.0
    assert m["lead"]["intent_accuracy"] == 0.0
    assert m["lead"]["product_calls"] == 1 and m["lead"]["product_agreement"] == 1.0


@pytest.mark.parametrize(("predicted", "gold", "same"), [
    ("流量月包", "流量包", True), ("分期", "账单分期", True), ("5G套餐", "5g套餐", True),
    ("宽带", "流量包", False), ("", "流量包", False), ("险", "意外险", False),
])
def test_lead_products_agree_when_they_share_two_characters(predicted, gold, same):
    assert same_product(predicted, gold) is same


@pytest.fixture()
def tiny(tmp_path):
    corpus, pred = tmp_path / "corpus", tmp_path / "pred"
    corpus.mkdir()
    pred.mkdir()
    for i, (labels, analysis) in enumerate(zip(LABELS, ANALYSES, strict=True)):
        call = {"call_id": f"c{i}", "turns": [{"role": "agent", "text": "您好"}], "labels": labels}
        (corpus / f"c{i}.json").write_text(json.dumps(call, ensure_ascii=False), encoding="utf-8")
        (pred / f"c{i}.analysis.json").write_text(json.dumps({"call_id": f"c{i}", **analysis}), encoding="utf-8")
    return corpus, pred


def test_eval_command_json(tiny):
    corpus, pred = tiny
    result = CliRunner().invoke(app, ["eval", "--corpus", str(corpus), "--pred", str(pred), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["calls"] == 2 and metrics["reasons"]["macro_f1"] == 0.5


def test_eval_command_table_and_missing_analysis(tiny):
    corpus, pred = tiny
    (pred / "c1.analysis.json").unlink()
    result = CliRunner().invoke(app, ["eval", str(pred), "--corpus", str(corpus)])
    assert result.exit_code == 0
    assert "calls: 1" in result.stdout
    assert "1 labelled calls have no analysis" in result.stderr
    assert "bill_dispute" in result.stdout


def test_eval_rejects_unknown_label_code(tiny):
    corpus, pred = tiny
    bad = json.loads((corpus / "c0.json").read_text(encoding="utf-8"))
    bad["labels"]["reasons"] = ["bill_despute"]
    (corpus / "c0.json").write_text(json.dumps(bad), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--corpus", str(corpus), "--pred", str(pred)])
    assert result.exit_code == 2
    assert "c0.json" in result.stderr and "bill_despute" in result.stderr


def test_turns_of_our_own_transcript_are_aligned_to_labelled_turns():
    from models.evaluate import realign

    gold = [{"role": "agent", "start": 0.0, "end": 3.0}, {"role": "customer", "start": 3.0, "end": 8.0},
            {"role": "agent", "start": 8.0, "end": 12.0}]
    # our transcript split the customer's turn in two and numbered everything differently
    ours = [{"role": "agent", "start": 0.1, "end": 2.9}, {"role": "customer", "start": 3.1, "end": 5.0},
            {"role": "customer", "start": 5.2, "end": 7.9}, {"role": "agent", "start": 8.1, "end": 11.8}]
    analysis = {"turns": ours, "script_points": [{"turn": 3, "point": "closing"}],
                "competitors": [{"turn": 2, "brand": "中国联通"}]}
    aligned = realign(analysis, gold)
    assert aligned["script_points"] == [{"turn": 2, "point": "closing"}]
    assert aligned["competitors"] == [{"turn": 1, "brand": "中国联通"}]


def test_a_competitor_labelled_by_another_name_of_the_same_company_matches():
    analysis = {"competitors": [{"turn": 5, "brand": "太平洋保险", "dimension": "price"}]}
    for label, hits in (("中国太保", 1), ("太平洋保险", 1), ("中国人寿", 0)):
        labels = {"competitors": [{"turn": 5, "brand": label, "dimension": "price"}]}
        assert evaluate([(analysis, labels)])["competitors"]["micro"]["f1"] == hits
