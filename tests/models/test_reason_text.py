"""The per-reason head over the customer's words: it hears reasons said in words no cue lists."""

from __future__ import annotations

import numpy as np

from models.features import customer_text, customer_words
from models.reason_text import REASON_TEXT_WEIGHT, fit_reason_text
from nlp.taxonomy import load_taxonomy
from tests.nlp.helpers import make_call

# a fraud said with no word of the taxonomy's lost_or_fraud cues, and plain bill questions
FRAUD = ["我钱包让小偷摸走了，里面有你们那张", "刚才有人冒用我名字在外地刷了好几笔", "小偷拿了我的包，卡也在里面",
         "有人冒用我的身份办了东西"]
BILL = ["这个月话费怎么这么多", "账单上这一项是什么费用", "我想问下这个月的月租是多少", "话费明细能不能发我一份"]


def _calls(texts, industry):
    return [make_call([("agent", "您好，请问有什么可以帮您？"), ("customer", t)], industry=industry) for t in texts]


def _head():
    taxonomy = load_taxonomy(None)
    calls = _calls(FRAUD, "bank") + _calls(BILL, "telecom")
    labels = [{"reasons": ["lost_or_fraud"]}] * len(FRAUD) + [{"reasons": ["bill_inquiry"]}] * len(BILL)
    return fit_reason_text(*customer_words(calls), labels, taxonomy, [1.0] * len(calls)), taxonomy


def test_a_reason_in_new_words_is_heard_from_calls_that_said_it_so():
    head, _ = _head()
    unseen = make_call([("customer", "昨天小偷把我包摸走了，卡在里面")], industry="bank")
    p = head.probabilities(unseen)
    assert set(head.codes) == {"lost_or_fraud", "bill_inquiry"}
    assert p["lost_or_fraud"] > 0.5 > p["bill_inquiry"]


def test_the_blend_averages_only_codes_that_have_a_head():
    head, taxonomy = _head()
    call = make_call([("customer", "有人冒用我名字刷了两笔")], industry="bank")
    codes = list(taxonomy.reasons)
    shared = np.full(len(codes), 0.2)
    blended = head.blend(call, codes, shared)
    text = head.probabilities(call)
    k = codes.index("lost_or_fraud")
    assert blended[k] == (1 - REASON_TEXT_WEIGHT) * 0.2 + REASON_TEXT_WEIGHT * text["lost_or_fraud"]
    untouched = [i for i, c in enumerate(codes) if c not in text]
    assert untouched and (blended[untouched] == 0.2).all()


def test_only_the_customer_speaks_to_the_head():
    call = make_call([("agent", "您好，话费查询请按一"), ("customer", "我卡丢了"), ("agent", "好的")])
    assert customer_text(call) == "我卡丢了"
