"""Sales leads: intent levels, the product, and the look-alikes that are not leads."""

from __future__ import annotations

import pytest

from nlp.leads import find_lead, load_lead_patterns, products_in, signal_counts
from tests.nlp.helpers import make_call


def test_billing_call_asking_for_a_bigger_data_plan_is_a_lead():
    call = make_call([
        ("agent", "您好，很高兴为您服务。"),
        ("customer", "我这个月话费怎么多了五十块？"),
        ("agent", "您流量超了，套外流量按五块一个G收。"),
        ("customer", "那有没有更大的流量包？多少钱？"),
        ("agent", "有的，给您推荐一个三十元二十G的流量月包，比按量扣划算。"),
        ("customer", "行，那就办这个吧。"),
    ], direction="inbound", industry="telecom")
    lead = find_lead(call)
    assert lead.intent == "high"
    assert "流量" in lead.product
    assert 5 in lead.turns and lead.score > 0.5


@pytest.mark.parametrize("answer, intent", [
    ("对，办吧。", "high"),
    ("明白，那加上吧。", "high"),
    ("行，那生吧。……算了，卡号变了太麻烦。", "medium"),   # a yes (misheard), then second thoughts: a lead
    ("这个我会头问问家里吧。", "medium"),                # 回头 heard as 会头, matched by sound
    ("我考虑一下，回头再说吧。", "medium"),
    ("多少钱？哦，那算了。", "low"),
    ("不需要，别打了。", "none"),
    ("真不需要，用不上，以后再说吧。", "low"),          # a no, then put off: the last word is a deferral
    ("到时候再说吧……不用了，真不需要。", "none"),        # put off, then a no
    ("二百九十八啊……那行，你给我弄一个。", "high"),
])
def test_outbound_answer_sets_intent(answer, intent):
    call = make_call([
        ("agent", "您好，我是客服小王，本次通话会被录音。"),
        ("customer", "嗯，你说。"),
        ("agent", "现在有个百万医疗险的活动，一年只要二百九十八元。"),
        ("customer", answer),
    ], direction="outbound", industry="insurance")
    assert find_lead(call).intent == intent


def test_service_call_without_an_offer_is_no_lead():
    call = make_call([
        ("agent", "您好，恒通银行信用卡中心，很高兴为您服务。"),
        ("customer", "我新收到一张信用卡，想激活一下。"),
        ("agent", "好的，跟您确认一下，激活尾号一二三四的卡，对吗？"),
        ("customer", "对，确认。"),
    ], direction="inbound", industry="bank")
    lead = find_lead(call)
    assert lead.intent == "none" and lead.turns == []


@pytest.mark.parametrize("text, expected", [
    ("给您推荐一个流量月包", ["流量月包"]),
    ("您好，恒通银行信用卡中心", []),
    ("我们有一款车主白金卡", ["车主白金卡"]),
    ("套餐外的通话费", []),
    ("我们那边千兆宽带现在有活动", ["千兆宽带"]),     # 边 belongs to 那边, not to the product
    ("再送您三个视频会员", ["视频会员"]),             # a count is no part of the name
    ("这款臻享白金卡首年免年费", ["臻享白金卡"]),
    ("我想办一张信用卡", ["信用卡"]),               # 用 is a boundary character, but not inside 信用卡
    ("您说的是一号双终端", ["一号双终端"]),
    ("手表这种智能终端也能用", ["智能终端"]),          # 终端 alone names a device product
    ("您可以直接升级五G套餐", ["五G套餐"]),            # the verbs before a product are no part of its name
    ("账单最高可以分期", ["分期"]),
    ("另外白金卡也有活动", ["白金卡"]),
    ("想问问你们那个大额存单现在利率多少", ["大额存单"]),
    ("这周老客户专享一款六升的可视空气炸锅", ["空气炸锅"]),   # goods the agent offers, named by their kind
    ("我们有个重疾加保的活动", ["重疾加保"]),
    ("我想咨询个显示器，二十七寸的", ["显示器"]),              # a shop's goods: what follows the verb
    ("我想问一下你们首页那个空气炸锅", ["空气炸锅"]),
    ("您想买个什么样的", []),
    ("行。那我还需要一个充电宝，你们有没有质量靠谱一点的？", ["充电宝"]),
    ("您这笔钱可以考虑基金定投", ["基金定投"]),
    ("追尾换保险杠一般两三天", []),                          # 保险杠, 被保险人 are no insurance
    ("被保险人是我", []),
    ("我妈还想要双冬天的棉鞋，你们有没有类似的？", ["棉鞋"]),      # what is wanted comes after its 的
    ("先不看宽带了", ["宽带"]),                                # adverbs and verbs before it are the sentence
    ("转存三年期大额存单", ["三年期大额存单"]),                  # a term is part of the name
    ("我们这款银龄守护老年意外险很适合老人", ["银龄守护老年意外险"]),   # a verb inside a brand name stays
    ("境外旅行险多少钱", ["境外旅行险"]),                      # 旅行 is one word with the keyword's 行
    ("可以存一笔定期", ["定期"]),
    ("我们的生鲜周卡一周十九块九", ["生鲜周卡"]),               # a week's or a year's pass is a product
    ("我们这款只要在加油站刷卡就返", []),                      # 刷卡 swipes a card: no card is named
    ("我这个固定额度不够用，想装修", []),                      # the limit the customer has is sold to no one
    ("系统给了您一个固定额度提升的邀请", ["固定额度提升"]),       # raising it is
])
def test_product_phrases(text, expected):
    assert products_in(text, load_lead_patterns()) == expected


def test_a_shop_customer_buying_what_they_asked_about_is_a_lead():
    call = make_call([
        ("agent", "您好，橙柚商城，请问有什么可以帮您？"),
        ("customer", "你好，我想咨询个显示器，二十七寸的，有没有Type-C口？"),
        ("agent", "有的，支持六十五瓦反向充电。"),
        ("customer", "哦那方便。价格呢？现在多少？"),
        ("agent", "现在活动价两千零四十九。"),
        ("customer", "行，我今晚就下单。"),
    ], direction="inbound", industry="ecommerce")
    lead = find_lead(call)
    assert (lead.intent, lead.product) == ("high", "显示器")


def test_asking_how_a_bundle_is_priced_then_putting_it_off_is_a_medium_lead():
    call = make_call([
        ("agent", "您好，中国电信，请问有什么可以帮您？"),
        ("customer", "我这个月怎么扣了这么多？"),
        ("agent", "是副卡的费用，每月二十元。"),
        ("customer", "哎，我再问一下，我们家宽带是单独交的，你们那个手机带宽带的是怎么算的？"),
        ("agent", "您说的是融合套餐，可以免费加装三百兆宽带。"),
        ("customer", "那我三月份再说吧。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent == "medium"


@pytest.mark.parametrize("answer, intent", [
    ("对对。", "high"),                   # a plain yes to the order read back
    ("不对，我没说要办。", "none"),
])
def test_a_yes_to_the_order_read_back_accepts_it(answer, intent):
    call = make_call([
        ("agent", "徐先生您好，现在五十八元合约送手机，手机白送。"),
        ("customer", "送手机？有这好事？能送家里来吗？"),
        ("agent", "跟您确认一下：您的号码参加五十八元合约送手机活动，合约期二十四个月，对吗？"),
        ("customer", answer),
    ], direction="outbound", industry="telecom")
    lead = find_lead(call)
    assert lead.intent == intent
    if intent != "none":
        assert lead.product == "五十八元合约送手机"   # named after the verb when no listed product is said


@pytest.mark.parametrize("answer", ["五十九……有点贵。我回去问问我儿子吧。",
                                    "我现在开车呢，你把报价明细发我，我晚上对一下。"])
def test_putting_an_offer_off_to_ask_family_or_compare_is_a_medium_lead(answer):
    call = make_call([
        ("agent", "您好，您的车险下月到期，今年续保有优惠。"),
        ("customer", "多少钱？"),
        ("agent", "给您推荐的方案，一年三千六百元。"),
        ("customer", answer),
    ], direction="outbound", industry="insurance")
    assert find_lead(call).intent == "medium"


@pytest.mark.parametrize("ask, answer, intent", [
    ("我现在的套餐流量老不够用，我想换个流量多点的套餐。", "行，那就换八十九的。", "high"),   # spending more: a sale
    ("我想把套餐换成便宜一点的，一百二十八太浪费了。", "三十八好，就换这个。", "none"),         # cutting spend: none
    ("我这个套餐一个月一百二十八，我看看还有别的吗。", "三十九？那一个月能省八十九。行，就换这个。", "none"),
])
def test_an_upgrade_the_customer_asks_for_is_a_lead_a_downgrade_is_not(ask, answer, intent):
    call = make_call([
        ("agent", "您好，中国移动，请问有什么可以帮您？"),
        ("customer", ask),
        ("agent", "可以的，可以换成这个价位的套餐。"),
        ("customer", answer),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent == intent


def test_the_plan_the_customer_has_described_in_an_answer_is_no_offer():
    # the agent describing the customer's own plan answers a question; it offers nothing
    own = make_call([
        ("customer", "我每个月月租是多少来着？"),
        ("agent", "您现在是八十八的套餐，里面有三十个G流量。"),
        ("customer", "我用不了那么多，能不能给我换个便宜的？"),
        ("agent", "可以，有个三十八的敬老套餐。"),
        ("customer", "那多少钱一个月？"),
        ("agent", "三十八，五个G流量。"),
        ("customer", "那行，就换这个。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(own).intent == "none"


@pytest.mark.parametrize("said, offer, intent", [
    ("这套餐一个月一百二十八，我要销户。", "您可以考虑降档到五十八的套餐，号码不用销。", "none"),   # kept by spending less
    ("我这套餐流量老不够用。", "您可以考虑升级到一百五十八的套餐，流量多一倍。", "high"),       # spending more: a sale
])
def test_a_yes_to_a_downgrade_the_agent_proposes_buys_nothing(said, offer, intent):
    call = make_call([("customer", said), ("agent", offer), ("customer", "那就换这个吧。")],
                     direction="inbound", industry="telecom")
    assert find_lead(call).intent == intent


def test_an_agent_turn_ending_what_it_names_offers_nothing():
    call = make_call([
        ("customer", "这个会员每个月自动扣我钱，我不想要了。"),
        ("agent", "会员的自动续费我帮您关掉，这个月的会员权益您可以用到月底。"),
        ("customer", "行，那就这么办吧。"),
    ], direction="inbound", industry="ecommerce")
    assert find_lead(call).intent == "none"


def test_bad_lead_file_names_it(tmp_path):
    path = tmp_path / "leads.yaml"
    path.write_text("signals: {accept: {weight: x}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="leads.yaml"):
        load_lead_patterns(str(path))


def test_customer_asking_what_an_installment_costs_then_agreeing_is_a_lead():
    call = make_call([
        ("agent", "您好，信用卡中心，请问有什么可以帮您？"),
        ("customer", "我这期账单有点多，想分一下。"),
        ("agent", "可以的，您这期最高能办账单分期一万八。"),
        ("customer", "分六期的话每期手续费多少？"),
        ("agent", "每期手续费率零点七，六期一共七百五十六块。"),
        ("customer", "行，那就分六期吧。"),
    ], industry="bank")
    lead = find_lead(call)
    assert lead.intent == "high" and lead.product == "账单分期"
    assert lead.turns == [3, 5]


def test_asking_what_to_do_is_not_agreeing_to_buy():
    """怎么办吧 holds 办吧 but asks for a fix: in a disputed-charge call it is no lead."""
    call = make_call([
        ("agent", "您好，很高兴为您服务。"),
        ("customer", "我这个月被扣了个视频会员，十九块九，我从来没开过。"),
        ("agent", "我看到您号码上确实有一个第三方的视频会员业务，每月十九块九。"),
        ("customer", "那你说怎么办吧，这钱我不认。"),
        ("agent", "我马上帮您退订，已扣的费用给您提交退费申请。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent == "none"


def test_picking_the_recommended_plan_by_its_price_is_high_intent():
    call = make_call([
        ("agent", "您好，中国移动，请问有什么可以帮您？"),
        ("customer", "我流量老是不够用，一个月要五十多个G。"),
        ("agent", "建议换一个流量大一点的套餐，我们现在有一档八十八元的，含一百个G。"),
        ("customer", "那行吧，就八十八的吧。"),
    ], direction="inbound", industry="telecom")
    lead = find_lead(call)
    assert lead.intent == "high" and "套餐" in lead.product


def test_extra_card_for_a_family_member_asked_in_an_activation_call_is_a_lead():
    call = make_call([
        ("agent", "您好，信用卡中心。"),
        ("customer", "我收到新卡了，想激活一下。"),
        ("agent", "好的，卡片已经帮您激活了。"),
        ("customer", "我闺女在外地上学，能不能给她也弄一张，花我这个额度的？"),
        ("agent", "可以办附属卡，跟您共用额度，免年费。"),
        ("customer", "她这个岁数能办吗？行，我回头跟她说一声。"),
    ], direction="inbound", industry="bank")
    lead = find_lead(call)
    assert lead.intent == "medium" and lead.product == "附属卡"


def test_asking_for_a_product_by_name_in_the_opening_is_a_lead():
    """我要办账单分期 asks for it: no agent offer or price question is needed for a lead."""
    call = make_call([
        ("agent", "您好，信用卡中心。"),
        ("customer", "我要办账单分期，这期一万二，分十二期。"),
        ("agent", "好的，先核对一下身份，请报一下身份证后四位。"),
        ("customer", "三七一二。"),
        ("agent", "已经为您办好了，每期手续费七十二元。"),
        ("customer", "好的，谢谢。"),
    ], direction="inbound", industry="bank")
    lead = find_lead(call)
    assert lead.intent != "none" and lead.product == "账单分期"


def test_naming_a_product_to_cancel_it_is_no_lead():
    call = make_call([
        ("agent", "您好，很高兴为您服务。"),
        ("customer", "我要取消那个视频会员，确认，马上给我退订。"),
        ("agent", "好的，已经为您退订。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent == "none"


@pytest.mark.parametrize("ask", ["这个月有点紧，能不能分几个月还？", "一次还不上，可以分开还吗？"])
def test_asking_to_pay_a_bill_over_months_is_asking_for_an_installment(ask):
    assert signal_counts(ask, load_lead_patterns())["interest"] >= 1


def test_asking_to_split_a_purchase_is_a_lead_named_by_the_agents_offer():
    call = make_call([
        ("agent", "您好，信用卡中心，请问有什么需要？"),
        ("customer", "我前两天刷卡买了个冰箱，一万二，想看看能不能分个期。"),
        ("agent", "您这笔消费可以做单笔分期，十二期的每期手续费率零点六五。"),
        ("customer", "嗯……那我再想想。"),
    ], direction="inbound", industry="bank")
    lead = find_lead(call)
    assert lead.intent != "none" and lead.product == "单笔分期"


def test_asking_for_something_cheaper_without_you_have_is_interest():
    # 你们有没有便宜点的 as heard: 你没有便宜点的. The customer still asks for a cheaper plan
    call = make_call([
        ("agent", "阿姨您好，我们现在有视频会员的活动，送三个月。"),
        ("customer", "我不看那个。我一个月话费要五十多，你没有便宜点的，老年人用的那种套餐？"),
        ("agent", "有的，有一款老年套餐，十八块一个月。"),
    ], direction="outbound", industry="telecom")
    assert find_lead(call).intent != "none"
    assert find_lead(make_call([
        ("agent", "您好，我们现在有视频会员的活动。"),
        ("customer", "这个也没有便宜多少，不要了。"),
    ], direction="outbound", industry="telecom")).intent == "none"


def test_a_question_about_a_product_named_a_few_turns_earlier_is_interest_in_it():
    # the customer's 能申请 comes two exchanges after the agent named 现金分期 (without a pitch word)
    turns = [
        ("agent", "您好，信用卡中心。"),
        ("customer", "你好，我想问下能把钱打到储蓄卡上的那种叫什么？"),
        ("agent", "您说的是我们的现金分期。麻烦您提供一下姓名和身份证后四位。"),
        ("customer", "王刚，后四位四零四一。"),
        ("agent", "王先生您好，核实通过。请问您大概需要多少钱？"),
        ("customer", "装修差不多要十万。"),
        ("agent", "最高可以批二十万，资金直接打到您的借记卡上。"),
        ("customer", "那我能申请十万吗？"),
        ("agent", "可以的。"),
        ("customer", "那我申请吧。"),
    ]
    lead = find_lead(make_call(turns, direction="inbound", industry="bank"))
    assert lead.intent == "high" and lead.product == "现金分期"
    # the same question long after the product came up is about something else
    padding = [("agent", "好的，我看一下。"), ("customer", "嗯。")] * 4
    late = turns[:3] + padding + [("customer", "那我能申请调额吗？"), ("agent", "可以的。")]
    assert find_lead(make_call(late, direction="inbound", industry="bank")).intent == "none"


@pytest.mark.parametrize("text, accepted", [
    ("行，那升吧", True),
    ("行,那生吧!", True),       # Whisper's 那生吧 sounds the same as 那升吧
    ("那也行，我回去想想", False),
])
def test_a_yes_counts_when_heard_with_the_wrong_characters(text, accepted):
    assert bool(signal_counts(text, load_lead_patterns())["accept"]) == accepted


def test_a_yes_to_a_downgrade_is_no_sale_but_refusing_a_downgrade_is_no_downgrade():
    downgrade = make_call([
        ("agent", "您好，瑞禾银行客服中心。"),
        ("customer", "你们这个白金卡年费六百，太坑了，我要退。"),
        ("agent", "您可以把卡降级成金卡，金卡刷六次免年费。"),
        ("customer", "那就降成金卡，把钱退给我。"),
        ("agent", "那我确认一下：白金卡降级为金卡，您确认吗？"),
        ("customer", "确认。"),
    ], direction="inbound", industry="bank")
    assert find_lead(downgrade).intent == "none"
    upgrade = make_call([
        ("agent", "您好，这里是中国移动客服。"),
        ("customer", "嗯。"),
        ("agent", "可以给您办一个5G流量套餐，五十九一个月，办理后十二个月内不能降档。"),
        ("customer", "十二个月不能降档没事，挺划算。"),
        ("agent", "跟您确认一下，变更为五十九元5G流量套餐，对吗？"),
        ("customer", "对，换吧。"),
    ], direction="outbound", industry="telecom")
    assert find_lead(upgrade).intent == "high"


@pytest.mark.parametrize("ask", [
    "你们那个现金分期是怎么个算法？",        # 怎么个算法
    "现金分期那个利息呢？",                  # a price asked with 呢
])
def test_asking_about_a_product_in_other_words_is_interest(ask):
    call = make_call([
        ("agent", "您好，瑞禾银行。"),
        ("customer", "我查一下这个月的账单。"),
        ("agent", "好的，这个月账单一万二。"),
        ("customer", ask),
    ], direction="inbound", industry="bank")
    lead = find_lead(call)
    assert lead.intent != "none"
    assert lead.product == "现金分期"


def test_so_what_will_you_do_about_it_is_no_interest():
    call = make_call([
        ("agent", "您这张白金卡第二年起年费六百。"),
        ("customer", "那你说怎么弄吧。"),
    ], direction="inbound", industry="bank")
    assert find_lead(call).intent == "none"


def test_a_cannot_before_a_product_word_is_not_part_of_its_name():
    assert products_in("也不能分期，那办个现金分期吧", load_lead_patterns()) == ["分期", "现金分期"]


@pytest.mark.parametrize("text", ["你先把具体条款发我手机上吧。", "我跟招行那个再比比。", "你晚上八点打吧。",
                                  "你把报价单发给我，我对着看看，明天给你答复。", "俺得问问俺闺女。"])
def test_wanting_to_compare_or_be_called_back_is_considering(text):
    assert signal_counts(text, load_lead_patterns())["consider"] >= 1


def test_a_product_word_across_two_words_is_no_product():
    patterns = load_lead_patterns()
    assert products_in("可能是特定期数的活动价", patterns) == []   # 特定 | 期数, not 定期
    assert products_in("我想存个三年定期", patterns)[0].endswith("三年定期")


def test_asking_whether_the_shop_has_something_similar_is_interest():
    call = make_call([
        ("agent", "换货已经给您登记好了。"),
        ("customer", "那行。对了，我妈还想要双冬天的棉鞋，抖音直播间里看到一款一百六的，你们有没有类似的？"),
        ("agent", "有的，我们自营的加绒健步棉鞋，防滑底，现在一百八十九元。"),
        ("customer", "我先看看吧，回头再说。"),
    ], direction="inbound", industry="ecommerce")
    lead = find_lead(call)
    assert lead.intent in ("low", "medium") and lead.product == "棉鞋"


def test_customer_hinting_at_an_extra_in_a_service_call_is_a_lead():
    """A passing ask (还有活动没) about goods seen before, then 一会儿下一个: a sale, however casually put."""
    call = make_call([
        ("agent", "您好，集优商城客服，请讲。"),
        ("customer", "我的快递三天没动了。"),
        ("agent", "我给您提加急查件，明天回复您。"),
        ("customer", "那行。那个……我上回看的那个空气炸锅，还有活动没？"),
        ("agent", "五升那款现在有满减，领券减八十。"),
        ("customer", "行，那我一会儿下一个。"),
    ], direction="inbound", industry="ecommerce")
    lead = find_lead(call)
    assert lead.intent == "high" and lead.product == "空气炸锅"


def test_relative_wanting_one_too_is_interest_in_what_the_agent_then_names():
    call = make_call([
        ("agent", "您好，请讲。"),
        ("customer", "我闺女也想弄个手机卡，能跟我这个宽带放一块儿吗？便宜点不？"),
        ("agent", "可以的，您现在还能加两张副卡，每张每月十块钱。"),
        ("customer", "十块……算了，回头再说吧。"),
    ], direction="inbound", industry="telecom")
    lead = find_lead(call)
    assert lead.intent in ("low", "medium") and lead.product == "副卡" and lead.turns[0] == 1


def test_yes_to_a_cancellation_read_back_buys_nothing():
    call = make_call([
        ("agent", "您好，请讲。"),
        ("customer", "我要销卡。"),
        ("agent", "我们现在有个留卡活动，保留这张卡的话送您一张视频会员。"),
        ("customer", "不用不用，说了不用，给我销了就行。"),
        ("agent", "好的，跟您确认一下，注销尾号三三九一的信用卡，确认吗？"),
        ("customer", "确认。"),
    ], direction="inbound", industry="bank")
    assert find_lead(call).intent == "none"


@pytest.mark.parametrize("text, expected", [
    ("那个什么划痕险，多少钱来着？", ["划痕险"]),        # any cover named by what it covers
    ("七天就能取？那有风险没有？", []),                 # 风险 is no insurance
    ("我们有一款青春卡，门槛低。", ["青春卡"]),
    ("她那个保险明年还得交多少钱？", []),               # a policy she already has
    ("家里还有别的电视要换吗？这周大家电有老客户专享价。", ["电视"]),   # appliances a shop sells
    ("我们新出了个流量叠加包，每个月自动多一大块流量。", ["流量叠加包"]),   # packs by their kind
    ("上次那样是因为没订港澳包。", ["港澳包"]),
    ("订一个港澳三日包是六十八块，三个G。", ["港澳三日包"]),
    ("三年期定期存款目前年利率大概百分之一点九。", ["三年期定期存款"]),   # 款 ends the keyword, not the name
    ("我们新出了奶粉订阅，每月自动送到家。", ["奶粉订阅"]),
    ("对了，广告里那件配套的外套现在有活动吗？", ["外套"]),           # clothes by the piece
])
def test_products_named_in_passing(text, expected):
    assert products_in(text, load_lead_patterns()) == expected


def test_no_then_the_other_way_is_no_yes():
    patterns = load_lead_patterns()
    assert signal_counts("一年也就出去一两次，不用了，还是单买吧。", patterns)["accept"] == 0
    assert signal_counts("想了想，还是办吧。", patterns)["accept"] == 1   # the offer after all


def test_yes_to_ending_a_membership_in_a_sales_call_buys_nothing():
    call = make_call([
        ("agent", "您好，我是悦购网的小周，本次通话会录音。"),
        ("customer", "嗯，什么事？"),
        ("agent", "您现在是月卡会员，这个月开年卡特别划算，开了全年免运费。"),
        ("customer", "不考虑了，关掉吧。"),
        ("agent", "好的，那给您关掉月卡自动续费，会员能用到本月二十八号，确认吗？"),
        ("customer", "确认。"),
    ], direction="outbound", industry="ecommerce")
    assert find_lead(call).intent == "none"


def test_an_extra_named_and_put_off_in_a_service_call_is_a_lead():
    opening = [("agent", "您好，请问有什么可以帮您？"), ("customer", "我要退个货，一双鞋。"),
               ("agent", "退货申请已经提交，快递员明天上门取件。")]
    put_off = make_call([*opening, ("customer", "好。对了，我看你们那个会员能打九五折，回头再研究吧。"),
                         ("agent", "好的，感谢来电，再见。")], direction="inbound", industry="ecommerce")
    lead = find_lead(put_off)
    assert lead.intent != "none" and "会员" in lead.product
    # only named, nothing put off or asked: no lead
    named = make_call([*opening, ("customer", "好。我那个会员还有半年才到期。"), ("agent", "好的，再见。")],
                      direction="inbound", industry="ecommerce")
    assert find_lead(named).intent == "none"


def test_a_yes_to_something_else_in_the_turn_that_puts_an_extra_off_is_no_yes():
    call = make_call([
        ("agent", "给您确认：扣款账户变更为尾号幺二八零的储蓄卡，确认变更吗？"),
        ("customer", "确认。对了，我老婆还啥保险都没买，我一直想给她也弄一个，以后再说吧。"),
        ("agent", "理解。以后给她配的话，做家庭单还能打九五折。"),
        ("customer", "嗯嗯，以后再说，今天就先改卡。"),
    ], direction="inbound", industry="insurance")
    assert find_lead(call).intent != "high"


def test_asking_about_an_offer_then_turning_it_down_leaves_a_low_lead():
    def sales_call(answers):
        turns = [("agent", "您好，我是保险公司的客服，给您介绍一款百万医疗险，一年几百块。")]
        for answer in answers:
            turns += [("customer", answer), ("agent", "您再了解一下？")]
        return make_call(turns, direction="outbound", industry="insurance")
    asked = sales_call(["多少钱一年？", "那就算了，单位有医保，没必要。", "不需要，谢谢。"])
    assert find_lead(asked).intent == "low"
    # a flat refusal, or a question asked inside the refusal itself, is no lead
    assert find_lead(sales_call(["不需要，公司给买了。", "不需要，我挂了啊。"])).intent == "none"
    assert find_lead(sales_call(["不需要，多少钱我都不买。", "不用了，别打了。"])).intent == "none"


def test_the_agent_naming_what_an_unnamed_question_asked_about_puts_it_on_the_table():
    opening = [("agent", "您好，卡片已经给您激活了。")]
    asked = make_call([*opening, ("customer", "好好。俺再问一句，你们那个存钱的，存个三年利息多少？"),
                       ("agent", "三年期定期存款目前年利率大概百分之一点九。"),
                       ("customer", "一点九……俺回头让闺女带俺去问问。")], direction="inbound", industry="bank")
    lead = find_lead(asked)
    assert lead.intent != "none" and "定期" in lead.product
    # the same product named by the agent with no question before it, in a service call: no offer
    told = make_call([*opening, ("customer", "好的，谢谢。"),
                      ("agent", "三年期定期存款的利息会按季度结给您。"),
                      ("customer", "哦，回头让闺女带俺去问问。")], direction="inbound", industry="bank")
    assert find_lead(told).intent == "none"


@pytest.mark.parametrize("text, interested", [
    ("你们有没有稳一点的理财？", True),
    ("办卡不要钱的话，那月租呢？", True),
    ("分十二期每个月多少？", True),
    ("临时额度那部分不能分期是吧？", False),   # a rule read back, not a wish to split
    ("能分期吗？", True),
    ("那到底能领多少？你们这个收益能保证多少？", True),
])
def test_interest_cues(text, interested):
    assert bool(signal_counts(text, load_lead_patterns())["interest"]) is interested


@pytest.mark.parametrize("text, considering", [
    ("我这车险明年三月到期，要是便宜点我就接着在你们这儿续。", True),   # a renewal on a condition
    ("要是还这样我就换了。", False),                                  # a threat to leave
])
def test_a_purchase_on_a_condition_is_considering_it(text, considering):
    assert bool(signal_counts(text, load_lead_patterns())["consider"]) is considering


def test_the_centre_named_in_the_greeting_is_never_the_product():
    call = make_call([
        ("agent", "您好，我是恒宇保险的客户经理小邵，这边给您介绍一款养老年金，"),
        ("customer", "养老年金每年交多少？"),
        ("agent", "恒宇保险这款养老年金每年交一万二，交十年。"),
        ("customer", "我跟我爱人商量一下再说吧。"),
    ], direction="outbound", industry="insurance")
    lead = find_lead(call)
    assert lead.intent != "none" and lead.product == "养老年金"


def test_a_general_name_counts_for_the_specific_product_that_holds_it():
    call = make_call([
        ("agent", "您好，这里是中国移动，给您推荐一个五G流量套餐，每月多三十G。"),
        ("customer", "这个套餐多少钱？"),
        ("agent", "套餐每月五十九元。"),
        ("customer", "行，那就给我办了吧。"),
    ], direction="outbound", industry="telecom")
    lead = find_lead(call)
    assert (lead.intent, lead.product) == ("high", "五G流量套餐")


@pytest.mark.parametrize(("text", "signal", "count"), [
    ("那要得，给他买一份。", "accept", 1),                        # buying for someone, said as done
    ("我想给她也买个这种意外险，多少钱啊？", "accept", 0),        # a wish and a question are no yes
    ("你们有没得那种专门给娃儿的意外险嘛？一年好多钱？", "interest", 2),   # 有没得 / 好多钱: 有没有 / 多少钱
    ("你把这几个价格发个短信给我吧。", "consider", 1),
    ("违约金的事你帮我查清楚发个短信给我。", "consider", 0),          # an SMS about a fee is no interest in a product
    ("先把这个赔了再说吧，别跟我提续保。", "consider", 1),           # 再说吧 and 再说 are one thing said
    ("先把这个赔了再说吧，别跟我提续保。", "refuse", 1),
])
def test_signal_wordings(text, signal, count):
    assert signal_counts(text, load_lead_patterns())[signal] == count


def test_an_offer_made_as_we_have_then_an_sms_asked_for_is_a_lead():
    call = make_call([
        ("agent", "您好，中国联通，请问有什么可以帮您？"),
        ("customer", "我想问问我这个月话费。"),
        ("agent", "您本月话费八十六元。看到您家里三个人都在用我们的号，我们有家庭融合套餐，三张卡加千兆宽带一起，人均更低。"),
        ("customer", "嗯，你把资费发个短信给我吧，我有空看看。"),
        ("agent", "好的，已经发送，感谢来电，再见。"),
    ], direction="inbound", industry="telecom")
    lead = find_lead(call)
    assert lead.intent != "none" and lead.product == "家庭融合套餐"


@pytest.mark.parametrize(("answer", "intent"), [
    ("我正开会呢，没空听，回头再说吧。", "none"),          # puts off the call, not the offer
    ("烘干机啊，回头再说吧，我先问问我老婆。", "medium"),     # puts off the offer itself
])
def test_a_busy_customer_saying_later_is_no_lead(answer, intent):
    call = make_call([
        ("agent", "您好，我这边是栗仓商城的。您上周买了洗衣机，我们现在有配套的烘干机，年末套购直降五百。"),
        ("customer", answer),
        ("agent", "好的，打扰您了，再见。"),
    ], direction="outbound", industry="ecommerce")
    assert find_lead(call).intent == intent


@pytest.mark.parametrize(("question", "intent"), [
    ("你们这个会员开了能退吗？", "low"),      # asked about the offer, then said no: a low lead
    ("会员？", "none"),                       # an echo asks nothing
    ("凭什么要开会员？", "none"),             # a challenge is no interest
])
def test_a_question_about_an_outbound_offer_then_a_no_is_a_low_lead(question, intent):
    call = make_call([
        ("agent", "您好，橙町好物，给您介绍一下我们的会员年卡，一年九十九元，全年免运费。"),
        ("customer", question),
        ("agent", "开通七天内没用过权益可以全额退。"),
        ("customer", "那也不用了，两个会员没必要。"),
        ("agent", "好的，打扰您了，再见。"),
    ], direction="outbound", industry="ecommerce")
    assert find_lead(call).intent == intent


def test_an_agent_advising_a_pack_then_a_later_is_a_lead():
    call = make_call([
        ("agent", "您好，中国广电，请问有什么可以帮您？"),
        ("customer", "我下周去香港，手机到那边能用吗？"),
        ("agent", "您的号码国际漫游已开通，到香港直接能用。流量建议订港澳日包，二十八元一天，不限量。"),
        ("customer", "二十八一天……那到时候看情况吧，落地了再说。"),
        ("agent", "好的，感谢您的来电，再见。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent != "none"


@pytest.mark.parametrize(("turns", "intent"), [
    ([("customer", "我前天收到一个电饭煲，三升的，买小了，想退掉。"), ("agent", "没用过的话可以退。"),
      ("customer", "那你们有没有大一点的？"), ("agent", "有的，同款有五升的，二百八十九元。"),
      ("customer", "那就换成五升的吧。")], "high"),                     # a bigger one of what was bought
    ([("customer", "我上个月买了个吹风机，现在不出热风了，修一下多少钱？"), ("agent", "保修期内免费维修。"),
      ("customer", "好的，那就修吧。")], "none"),                        # a repair of it is no purchase
])
def test_asking_for_another_version_of_what_was_bought_is_a_lead(turns, intent):
    call = make_call([("agent", "您好，橙町好物，请问有什么可以帮您？"), *turns], direction="inbound", industry="ecommerce")
    lead = find_lead(call)
    assert lead.intent == intent and (intent == "none" or lead.product == "电饭煲")


def test_a_lead_on_a_call_that_names_only_the_company_still_has_a_product():
    call = make_call([
        ("agent", "您好，我是恒宇保险的小宋，耽误您一分钟，想给您介绍一下恒宇保险。"),
        ("customer", "一年要多少钱？"),
        ("agent", "看您选哪档，最低一年三百多。"),
        ("customer", "那你发个资料给我看看吧。"),
    ], direction="outbound", industry="insurance")
    lead = find_lead(call)
    assert lead.intent != "none" and lead.product != ""


def test_a_sure_learnt_head_makes_a_low_lead_of_a_call_the_rules_pass_over():
    """The rules see no cue here; a learnt head that is sure of a lead (HEARD_LEAD) makes it a low one,
    for the product the call names; unsure, or with no product named, it adds nothing."""
    from nlp.leads import HEARD_LEAD

    call = make_call([
        ("agent", "您好，很高兴为您服务。"),
        ("customer", "我网老掉线，顺带说一句，我闺女说副卡挺方便。"),
        ("agent", "线路给您报修了。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent == "none"
    heard = find_lead(call, heard=lambda _: HEARD_LEAD + 0.1)
    assert heard.intent == "low" and heard.product == "副卡" and heard.turns == [1]
    assert find_lead(call, heard=lambda _: HEARD_LEAD - 0.1).intent == "none"
    nothing_named = make_call([("agent", "您好。"), ("customer", "我随便问问。")], industry="telecom")
    assert find_lead(nothing_named, heard=lambda _: 0.99).intent == "none"


def test_the_learnt_head_is_not_asked_where_the_rules_find_a_lead():
    def never(_):
        raise AssertionError("asked for a second opinion the rules did not need")

    call = make_call([
        ("agent", "您好，信用卡中心，请问有什么可以帮您？"),
        ("customer", "我要办账单分期，这期一万二，分十二期。"),
    ], direction="inbound", industry="bank")
    assert find_lead(call, heard=never).intent != "none"


def test_buying_a_day_pass_on_arrival_is_a_lead_put_off():
    # 到时候落地了再买: the purchase is planned, only not today (a roaming day pass is a paid product)
    call = make_call([
        ("agent", "您好，中国联通，很高兴为您服务。"),
        ("customer", "我下周去泰国，想把国际漫游开一下。"),
        ("agent", "好的，已经给您开通了。泰国有个日包，每天二十五块钱，不限量。"),
        ("customer", "哦，那日包我到时候落地了再买吧，先不买。"),
        ("agent", "好的，落地以后在APP里搜泰国日包就能订。"),
    ], direction="inbound", industry="telecom")
    lead = find_lead(call)
    assert lead.intent in ("low", "medium")
    assert "日包" in lead.product


def test_a_discounted_appliance_offered_by_the_unit_is_on_the_table():
    # 一台空气净化器 names the goods; 直降 makes the next turn a pitch; a call-back asked for is a lead
    call = make_call([
        ("customer", "喂，你好？"),
        ("agent", "您好，这里是优选商城客服，我看您购物车里放着一台空气净化器，还在对比吗？"),
        ("customer", "家里有宝宝，想买一个，就是有点贵。"),
        ("agent", "今天这款参加年货节，原价两千二，现在直降四百。"),
        ("customer", "我晚上回去跟我老公商量一下，你明天再打给我吧。"),
        ("agent", "好的，那明天再联系您，再见。"),
    ], direction="outbound", industry="ecommerce")
    lead = find_lead(call)
    assert lead.intent in ("low", "medium")
    assert lead.product == "空气净化器"


def test_the_yes_that_closes_a_downgrade_is_no_sale_however_long_the_read_back():
    # the agent asks two questions and reads the cheaper plan back before the customer's yes
    call = make_call([
        ("agent", "您好，中国电信，很高兴为您服务。"),
        ("customer", "我这个月怎么多扣了十块？"),
        ("agent", "是视频会员，您开通的时候有个活动，送一个月，之后每月十块。"),
        ("customer", "那个会员我不要了。还有那个套餐一百一十九太贵了，你给我换个便宜点的。"),
        ("agent", "可以，您平时一个月流量大概用多少？"),
        ("customer", "十来个G吧。"),
        ("agent", "电话打得多吗？"),
        ("customer", "不多，都用微信。"),
        ("agent", "那五十九元的畅享套餐就够了，三十个G流量。"),
        ("customer", "行行行。"),
        ("agent", "跟您确认，从一百一十九元套餐改成五十九元畅享套餐，下月生效，您确认办理吗？"),
        ("customer", "确认，办吧。"),
        ("agent", "已经提交了。另外您家里要是有宽带，办个融合套餐更划算。"),
        ("customer", "不用不用，不折腾了。"),
    ], direction="inbound", industry="telecom")
    assert find_lead(call).intent == "none"


def test_a_yes_to_a_remedy_read_back_buys_nothing():
    # 补发 a damaged gift box and a coupon as amends: 确认 accepts the fix, not a purchase
    call = make_call([
        ("agent", "您好，优选商城客服，很高兴为您服务。"),
        ("customer", "我买的年货礼盒到了，罐子压扁了两个。"),
        ("agent", "非常抱歉，这边给您补发一盒全新的礼盒，再送您一张五十元的券。"),
        ("customer", "行吧。"),
        ("agent", "跟您确认一下：补发一盒全新的年货礼盒，补偿五十元无门槛券，您看可以吗？"),
        ("customer", "确认。"),
        ("agent", "好的，感谢您的来电，再见。"),
    ], direction="inbound", industry="ecommerce")
    assert find_lead(call).intent == "none"
