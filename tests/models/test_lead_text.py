"""The lead head over the customer's words, the lead finder's second opinion."""

from __future__ import annotations

from models.features import customer_words
from models.lead_text import fit_lead_text
from nlp.scoring import CueScorer
from nlp.taxonomy import load_taxonomy
from tests.nlp.helpers import make_call

LEADS = ["那个新出的套餐听着不错，我琢磨琢磨", "你们那款大流量的我挺想试试", "这个优惠我心动了，回头找你们", "副卡给我闺女也整一张呗"]
NONE = ["我宽带坏了，赶紧派人来修", "话费扣错了，给我退回来", "我要查一下上个月的账单", "网络太差了，信号一格都没有"]


def _calls(texts):
    return [make_call([("agent", "您好。"), ("customer", t)], direction="inbound", industry="telecom") for t in texts]


def test_the_head_tells_lead_words_from_service_words():
    labels = [{"lead": {"intent": "low"}}] * len(LEADS) + [{"lead": {"intent": "none"}}] * len(NONE)
    calls = _calls(LEADS) + _calls(NONE)
    head = fit_lead_text(*customer_words(calls), calls, labels, [1.0] * len(calls))
    wants, broken = _calls(["那个大流量的新套餐我挺心动"])[0], _calls(["宽带又坏了，派人来修"])[0]
    assert head.probability(wants) > 0.5 > head.probability(broken)


def test_no_head_without_both_kinds_of_call_and_none_in_the_untrained_scorer():
    calls = _calls(NONE)
    assert fit_lead_text(*customer_words(calls), calls, [{"lead": {"intent": "none"}}] * len(NONE), [1.0] * len(NONE)) is None
    assert CueScorer(load_taxonomy(None)).lead_probability(_calls(NONE)[0]) is None
