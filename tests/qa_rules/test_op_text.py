"""keyword / regex / fuzzy: each hits on a constructed call and just misses on a near variant."""

from __future__ import annotations

import pytest

from tests.qa_rules.calls import make_view, run_op

CALL = [("agent", "您好，请问有什么可以帮您？"),
        ("customer", "我要退款，你们乱扣费。"),
        ("agent", "这个不归我们管，你自己去营业厅查。"),
        ("agent", "您放心，保证金会退回的。")]


@pytest.mark.parametrize("params, turns", [
    ({"any": ["退款"], "role": "customer"}, [1]),
    ({"any": ["退款"], "role": "agent"}, []),                      # just miss: said by the customer
    ({"any": ["不归我管"], "synonyms": {"不归我管": ["不归我们管"]}, "role": "agent"}, [2]),
    ({"any": ["不归我管"], "role": "agent"}, []),                 # just miss: no synonym given
    ({"all": ["营业厅", "自己"], "role": "agent"}, [2, 2]),
    ({"all": ["营业厅", "网点"], "role": "agent"}, []),           # just miss: one of two absent
    ({"any": ["保证"], "exclude": ["保证金"], "role": "agent"}, []),  # exclusion overlaps the hit
    ({"any": ["保证"], "role": "agent"}, [3]),
    ({"any": ["您好"], "role": "agent", "min_count": 2}, []),     # just miss: said once
    ({"any": ["您"], "role": "agent", "min_count": 2}, [0, 3]),
    ({"any": ["營業廳"], "role": "agent"}, [2]),                  # traditional keyword is normalised
])
def test_keyword_any_all(params, turns):
    assert [e.turn for e in run_op("keyword", params, make_view(CALL))] == turns


@pytest.mark.parametrize("words, matched", [(["再见"], True), (["您好"], False)])
def test_keyword_none_records_absence(words, matched):
    hits = run_op("keyword", {"none": words, "role": "agent"}, make_view(CALL))
    assert bool(hits) is matched
    if hits:
        assert hits[0].turn == 0 and "再见" in hits[0].explanation


@pytest.mark.parametrize("params, turns", [
    ({"pattern": "(你|您)自己(去|上)?.{0,6}(查|问)", "role": "agent"}, [2]),
    ({"pattern": "(你|您)自己(去|上)?.{0,2}(查|问)", "role": "agent"}, []),   # just miss: gap too long
    ({"pattern": "保证", "exclude": "保证金", "role": "agent"}, []),
    ({"pattern": "保证", "exclude": "保证书", "role": "agent"}, [3]),
    ({"pattern": "扣费", "role": "any"}, [1]),
])
def test_regex(params, turns):
    assert [e.turn for e in run_op("regex", params, make_view(CALL))] == turns


def test_regex_digits_and_evidence_quote():
    view = make_view([("agent", "您的验证码是一二三四五六。", 3.0, 6.0)])
    [hit] = run_op("regex", {"pattern": r"\d{6}", "digits": True, "role": "agent"}, view)
    assert hit.start == 3.0 and hit.operator == "regex" and "00:03" in hit.explanation
    assert run_op("regex", {"pattern": r"\d{6}", "role": "agent"}, view) == []


@pytest.mark.parametrize("text, threshold, hit", [
    ("本次通话将被录音", 85, True),
    ("本次通话将被路音", 85, True),          # one ASR slip in eight characters: 87.5
    ("本次通画将被路音", 85, False),         # two slips: 75, just below
    ("本次通画将被路音", 75, True),
])
def test_fuzzy(text, threshold, hit):
    view = make_view([("agent", f"您好，{text}，请问方便吗？")])
    hits = run_op("fuzzy", {"phrases": ["本次通话将被录音"], "threshold": threshold, "role": "agent"}, view)
    assert bool(hits) is hit
    if hit:
        assert hits[0].score >= threshold / 100
        assert "将被" in hits[0].text


@pytest.mark.parametrize("params", [
    {"any": ["a"], "all": ["b"]}, {}, {"any": []}, {"any": ["a"], "colour": "red"},
])
def test_keyword_params_rejected(params):
    from pydantic import ValidationError

    from qa_rules.operators import operators
    with pytest.raises(ValidationError):
        operators.get("keyword").Params.model_validate(params)


@pytest.mark.parametrize("text, by_sound, hit", [
    ("麻烦提供一下核心分证后四为", True, True),      # ASR slip of 身份证后四位, heard the same
    ("麻烦提供一下核心分证后四为", False, False),
    ("麻烦提供一下您的地址", True, False),
])
def test_keyword_by_sound(text, by_sound, hit):
    view = make_view([("agent", text)])
    evidence = run_op("keyword", {"any": ["证后四位"], "by_sound": by_sound}, view)
    assert bool(evidence) is hit
    if hit:
        assert evidence[0].text.endswith("证后四为")
