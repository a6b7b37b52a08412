"""Script points per agent turn from the untrained cue scorer."""

from __future__ import annotations

import pytest

from nlp.scoring import CueScorer
from nlp.script_points import find_script_points
from nlp.taxonomy import load_taxonomy
from tests.nlp.helpers import make_call

SCORER = CueScorer(load_taxonomy())


@pytest.mark.parametrize("agent_text, expected", [
    ("您好，中国移动，很高兴为您服务，请问有什么可以帮您？", "greeting"),
    ("请问您是机主本人吗？麻烦提供一下身份证后四位。", "identity_check"),
    ("非常抱歉，让您久等了，我非常理解您的心情。", "empathy"),
    ("本次通话会被录音，理财非存款，产品有风险，投资须谨慎。", "compliance_disclosure"),
    ("跟您确认一下，为您办理三十八元套餐，下个月生效，您确认吗？", "confirmation"),
    ("好的，感谢您的来电，祝您生活愉快，再见。", "closing"),
    ("提醒您一下，缴费日之后有六十天宽限期，过了宽限期保单会中止效力。", "compliance_disclosure"),
])
def test_point_of_a_clear_turn(agent_text, expected):
    call = make_call([("customer", "你好。"), ("agent", "嗯，我在听。"), ("customer", "嗯。"),
                      ("agent", agent_text), ("customer", "好的。"), ("agent", "您还有什么问题吗？")])
    points = {p.turn: p.point for p in find_script_points(call, SCORER)}
    assert points[3] == expected


def test_greeting_first_and_closing_last_win_by_position():
    call = make_call([("agent", "您好，请问有什么可以帮您？"), ("customer", "我问个事。"),
                      ("agent", "好的，还有其他问题吗？没有的话再见。")])
    points = {p.turn: p.point for p in find_script_points(call, SCORER)}
    assert points == {0: "greeting", 2: "closing"}


def test_back_channels_carry_no_point():
    call = make_call([("agent", "您好，很高兴为您服务。"), ("customer", "我想问问。"), ("agent", "嗯。"),
                      ("customer", "就是这个事。"), ("agent", "是的。")])
    assert [p.turn for p in find_script_points(call, SCORER)] == [0]


def test_a_short_turn_with_words_carries_a_point():
    # 再见。 is two characters, but it closes the call; 嗯，好的。 before it only acknowledges
    call = make_call([("agent", "您好，很高兴为您服务。"), ("customer", "没事了，谢谢。"), ("agent", "嗯，好的。"),
                      ("customer", "拜拜。"), ("agent", "好，再见。")])
    assert {p.turn: p.point for p in find_script_points(call, SCORER)} == {0: "greeting", 4: "closing"}


@pytest.mark.parametrize("customer_text, expected", [
    ("我这个月为什么多了二十块？", "explanation"),
    ("那现在怎么办？能不能处理一下？", "solution"),
    ("太贵了，我再考虑考虑。", "objection_handling"),
])
def test_what_the_customer_just_said_decides_an_undecided_turn(customer_text, expected):
    # the same agent words answer a question, a request or an objection: `after` cues decide
    call = make_call([("agent", "您好，中国移动，很高兴为您服务。"), ("customer", customer_text),
                      ("agent", "好的，这个我来跟您说一下。"), ("customer", "嗯。"), ("agent", "嗯，您说。"),
                      ("customer", "好。"), ("agent", "嗯，好的。"), ("customer", "没了。"), ("agent", "感谢您的来电，再见。")])
    points = {p.turn: p.point for p in find_script_points(call, SCORER)}
    assert points[2] == expected


def test_outbound_opening_with_the_bundled_model():
    """Checking the right person was reached is an identity check; 有一款 presents a product;
    a grace-period reminder is a disclosure (cue phrasings added in the taxonomy)."""
    from models.store import DEFAULT_MODEL, load_model

    call = make_call([
        ("agent", "您好，我是宏泽保险的客服小柏。"),
        ("customer", "嗯，什么事？"),
        ("agent", "请问是住在锦绣家园的郑女士吗？"),
        ("customer", "是我。"),
        ("agent", "郑女士，我们现在有一款养老年金保险，交十年，六十岁开始每年领钱，一直领到终身。"),
        ("customer", "哦，多少钱一年？"),
        ("agent", "一年交两万，十年以后每年能领一万五。"),
        ("customer", "嗯，还有什么要注意的？"),
        ("agent", "提醒您一下，缴费日之后有六十天宽限期，过了宽限期保单会中止效力。"),
        ("customer", "行，我考虑一下。"),
        ("agent", "好的，感谢您的接听，再见。"),
    ], direction="outbound", industry="insurance")
    points = {p.turn: p.point for p in find_script_points(call, load_model(DEFAULT_MODEL))}
    assert points[2] == "identity_check"
    assert points[4] == "product_pitch"
    assert points[8] == "compliance_disclosure"


@pytest.mark.parametrize("customer_text, agent_text, expected", [
    # 各家/每家/其他公司 answer a customer who compares
    ("我朋友那边一个月才十九块三十个G，你们这个太贵了。",
     "各家的价格会有一点差别，其他公司的套餐我没法评价，算下来我们这个一天不到一块钱。", "objection_handling"),
    # the terms of a loan
    ("那利息到底多少？",
     "折合年化利率大约百分之十三，具体以申请页面显示的为准，提前还款的话已收的手续费不退。", "compliance_disclosure"),
])
def test_answer_in_a_short_call(customer_text, agent_text, expected):
    """The cue scorer reads the cue phrasings added in the taxonomy without training."""
    call = make_call([("agent", "您好，很高兴为您服务。"), ("customer", customer_text), ("agent", agent_text),
                      ("customer", "好的。"), ("agent", "感谢您的来电，再见。")])
    points = {p.turn: p.point for p in find_script_points(call, SCORER)}
    assert points[2] == expected


def test_answer_to_already_having_one_is_objection_handling():
    """The customer's 已经有 (already has one) or 怎么知道 (doubt) makes the agent's answer objection handling."""
    for said in ("信用卡啊……我已经有一张招行的了。", "我怎么知道你是真的假的？"):
        call = make_call([
            ("agent", "您好，我是嘉禾银行的客服。"),
            ("customer", said),
            ("agent", "那正好多一张备用，我们这张卡额度也高一些。"),
            ("customer", "哦。"),
            ("agent", "这张卡首年免年费。"),
            ("customer", "行吧。"),
            ("agent", "跟您确认一下，给您办理这张卡，可以吗？"),
            ("customer", "可以。"),
            ("agent", "感谢您的接听，再见。"),
        ])
        points = {p.turn: p.point for p in find_script_points(call, SCORER)}
        assert points[2] == "objection_handling", said
