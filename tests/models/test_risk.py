"""Complaint risk: signals read off constructed analyses, scores, drivers, training and settings errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.crossval import cross_validate_risk
from models.evaluate import risk_metrics
from models.risk import (
    RiskError,
    default_risk_model,
    fit_risk,
    load_risk,
    load_risk_settings,
    measure_signals,
    save_risk,
)
from tests.insights.factory import make_call

CALM = {"turns": [("agent", "您好，请问有什么可以帮您？", 0.0, 3.0), ("customer", "我想查一下话费，谢谢。", 3.2, 6.0)],
        "history": {"contacts_30d": 0, "complaints_90d": 0, "repeat_within_24h": False},
        "path": [{"channel": "ivr", "node": "1", "name": "话费查询", "result": "ok"},
                 {"channel": "ivr", "node": "0", "name": "转人工", "result": "transfer"}],
        "sentiment": {"agent": 0.3, "customer": 0.2}, "outcome": "resolved"}


def angry_call(call_id: str = "angry") -> dict:
    """A repeat caller who went round the IVR, threatens 工信部 and 12315, and was not helped."""
    return make_call(
        call_id,
        turns=[("agent", "您好。", 0.0, 1.0),
               ("customer", "我昨天打过了，还是没解决！再不处理我就去工信部投诉，还要打12315！", 1.2, 6.0),
               ("agent", "这个我也没办法。", 6.0, 8.0)],
        history={"contacts_30d": 4, "complaints_90d": 1, "repeat_within_24h": True},
        path=[{"channel": "ivr", "node": "3", "name": "业务办理", "result": "ok"},
              {"channel": "ivr", "node": "3", "name": "业务办理", "result": "repeat"},
              {"channel": "ivr", "node": "3-1", "name": "办理", "result": "fail"},
              {"channel": "ivr", "node": "0", "name": "转人工", "result": "transfer"}],
        sentiment={"agent": 0.0, "customer": -0.8}, outcome="unresolved",
        qa={"score": 60, "violations": [{"rule": "taboo", "code": "forbidden_phrase", "turn": 2}]},
        acoustics={"overlaps": [{"start": 5.5, "end": 6.0, "who": "agent", "over": "customer"},
                                {"start": 7.0, "end": 7.4, "who": "customer", "over": "agent"}]})


def test_signals_read_off_an_angry_call():
    settings = load_risk_settings()
    values = measure_signals(angry_call(), settings)
    assert values["repeat_24h"].value == 1.0
    assert values["past_complaints"].value == 1.0
    assert values["contacts_30d"].value == 4.0
    assert values["threat"].value == 2.0 and "工信部" in values["threat"].detail and "12315" in values["threat"].detail
    assert values["unresolved"].value == 1.0 and values["escalated"].value == 0.0
    assert values["ivr_loop"].value == 1.0  # node 3 again with a "repeat" result: one loop, counted once
    assert values["self_service_fail"].value == 1.0
    assert values["overtalk"].value == 1.0  # only the agent talking over the customer counts
    assert values["qa_taboo"].value == 1.0 and values["qa_violations"].value == 1.0
    # anger grows linearly from the threshold (-0.3) to 1 at -1: (-0.3 - -0.8) / 0.7
    assert values["anger"].value == pytest.approx(0.5 / 0.7, abs=1e-3)


def test_calm_call_has_no_signals_and_low_score():
    model = default_risk_model()
    calm = make_call("calm", **CALM)
    assert all(v.value == 0 for v in measure_signals(calm, model.settings).values())
    assert model.assess(calm)["score"] < 0.05
    assert model.assess(calm)["drivers"] == []


def test_signals_are_capped():
    settings = load_risk_settings()
    call = make_call("many", history={"contacts_30d": 40, "complaints_90d": 9, "repeat_within_24h": True})
    values = measure_signals(call, settings)
    assert values["contacts_30d"].value == settings.signals["contacts_30d"].cap
    assert values["past_complaints"].value == settings.signals["past_complaints"].cap


def test_angry_call_scores_high_with_drivers_in_words():
    model = default_risk_model()
    risk = model.assess(angry_call())
    assert risk["score"] > 0.9
    assert len(risk["drivers"]) == 3
    assert "repeat call within 24h" in risk["drivers"]
    assert risk["drivers_zh"][risk["drivers"].index("repeat call within 24h")] == "24小时内重复来电"
    assert risk["action"]  # the top driver has a suggested action
    # drivers are ordered by their share of the score
    parts = model.contributions(measure_signals(angry_call(), model.settings))
    assert [p[1] for p in parts] == sorted([p[1] for p in parts], reverse=True)


def test_each_signal_raises_the_score():
    model = default_risk_model()
    base = model.assess(make_call("calm", **CALM))["score"]
    for history in ({"repeat_within_24h": True}, {"complaints_90d": 2}, {"contacts_30d": 5}):
        call = make_call("h", **{**CALM, "history": {**CALM["history"], **history}})
        assert model.assess(call)["score"] > base, history


def test_fit_learns_the_signal_that_separates(tmp_path: Path):
    calls, complained = [], []
    for i in range(30):
        repeat = i % 3 == 0
        calls.append(make_call(f"c{i}", **{**CALM, "history": {"contacts_30d": i % 2, "complaints_90d": 0,
                                                                 "repeat_within_24h": repeat}}))
        complained.append(repeat)
    model = fit_risk(calls, complained)
    assert model.kind == "trained"
    assert model.weights["repeat_24h"] > 1.0
    assert model.weights["repeat_24h"] > 5 * model.weights["contacts_30d"]
    scores = [model.assess(c)["score"] for c in calls]
    assert min(s for s, y in zip(scores, complained) if y) > max(s for s, y in zip(scores, complained) if not y)
    # saved and loaded back: same scores
    save_risk(model, tmp_path)
    again = load_risk(tmp_path)
    assert again.kind == "trained"
    assert [again.assess(c)["score"] for c in calls] == scores


def test_fit_needs_both_classes():
    with pytest.raises(RiskError, match="with and without"):
        fit_risk([make_call("a", **CALM)], [False])


def test_load_risk_without_file_is_default(tmp_path: Path):
    assert load_risk(tmp_path).kind == "default"
    assert load_risk(None).kind == "default"


def test_risk_metrics_known_answer():
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01]
    complained = [True, False, True, False, False, False, False, False, False, False, False]
    m = risk_metrics(scores, complained)
    # positives ranked 1st and 3rd among 11: of 2 x 9 pairs, only (0.7, 0.8) is misordered
    assert m["roc_auc"] == pytest.approx(17 / 18, abs=1e-4)
    assert m["top_k"] == 2 and m["precision_top10"] == 0.5


def test_cross_validate_risk_reports_default_and_trained():
    calls = [angry_call(f"a{i}") for i in range(6)] + [make_call(f"c{i}", **CALM) for i in range(18)]
    complained = [True] * 6 + [False] * 18
    figures = cross_validate_risk(calls, complained, folds=3)
    assert figures["default"]["roc_auc"] == 1.0
    assert figures["trained_cv"]["roc_auc"] == 1.0
    assert figures["folds"] == 3


@pytest.mark.parametrize("text, message", [
    ("signals:\n  nonsense: {weight: 1}\n", "signals.nonsense: no such signal"),
    ("signals:\n  repeat_24h: {weight: heavy}\n", "signals.repeat_24h: weight and cap must be numbers"),
    ("signals:\n  repeat_24h: {weight: 1, driver: only-one}\n", r"signals.repeat_24h.driver: expected \[Chinese"),
    ("threat_words: ['re:(']\n", r"threat_words\[0\]: bad regular expression"),
    ("colour: red\n", "unknown field"),
])
def test_bad_settings_name_the_entry(tmp_path: Path, text: str, message: str):
    path = tmp_path / "risk.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RiskError, match=message) as info:
        load_risk_settings(path)
    assert str(path) in str(info.value)


def test_damaged_model_file_is_named(tmp_path: Path):
    (tmp_path / "risk.json").write_text(json.dumps({"weights": {"nonsense": 1}, "intercept": 0}), encoding="utf-8")
    with pytest.raises(RiskError, match="nonsense"):
        load_risk(tmp_path)
