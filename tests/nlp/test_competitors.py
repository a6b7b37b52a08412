"""Competitor mentions: constructed turns for names, look-alikes, own brand, industry, dimensions,
garbled names, the spaCy registrations and bad lexicon files."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.util import registry

from callscope.types import Conversation, Turn
from nlp.competitors import CompetitorPatternError, find_competitors, load_competitor_patterns
from nlp.text import CallText, TurnText, call_text

GREETING = {
    "telecom": "您好，中国移动，很高兴为您服务，请问有什么可以帮您？",
    "bank": "您好，恒通银行信用卡中心，很高兴为您服务。",
    "insurance": "您好，明泰保险客服中心，我是小郑。",
    "ecommerce": "您好，优品汇客服，请问有什么可以帮您？",
}


def _call(industry: str, *turns: tuple[str, str], greeting: str | None = None) -> CallText:
    """A call: the agent's greeting (turn 0), then the given (role, text) turns."""
    first = [Turn("agent", GREETING[industry] if greeting is None else greeting)]
    conv = Conversation("t", first + [Turn(role, text) for role, text in turns], extra={"industry": industry})
    return call_text(conv)


def _found(call: CallText, **kwargs) -> list[tuple[int, str, str]]:
    return [(m.turn, m.brand, m.dimension) for m in find_competitors(call, **kwargs)]


@pytest.mark.parametrize("industry, text, brand, dimension", [
    ("telecom", "联通那边一个月才三十九，流量还多", "中国联通", "price"),
    ("telecom", "我朋友用电信的，在地下室信号都满格", "中国电信", "network"),
    ("telecom", "人家联通的客服态度比你们好多了", "中国联通", "service"),
    ("telecom", "我看广电那个卡一个月才十九块", "中国广电", "price"),
    ("telecom", "广电的卡网速特别快", "中国广电", "network"),
    ("telecom", "我爸用的是电信，宽带安装师傅当天就上门了", "中国电信", "service"),
    ("bank", "建行的信用卡额度给我批了五万", "建设银行", "product"),
    ("bank", "农行那边贷款利率才三点五", "农业银行", "price"),
    ("bank", "中信那个卡的积分能换里程", "中信银行", "product"),
    ("bank", "交行客服的态度特别好，十分钟就处理完了", "交通银行", "service"),
    ("bank", "邮储的理财年化有四个点", "邮储银行", "price"),
    ("bank", "我同事用的浦发那个卡，机场贵宾厅随便进", "浦发银行", "product"),
    ("bank", "平安的车主卡加油返现多", "平安银行", "product"),           # bare 平安 in a bank call
    ("insurance", "买的平安的，人家理赔三天就到账了", "中国平安", "service"),
    ("insurance", "我在国寿有一份重疾，二十万的", "中国人寿", "product"),
    ("insurance", "太平洋的车险一年才两千", "太平洋保险", "price"),
    ("insurance", "人保的车险便宜两百", "中国人保", "price"),
    ("insurance", "友邦的保障范围更广", "友邦保险", "product"),
    ("ecommerce", "拼多多百亿补贴才两千九", "拼多多", "price"),
    ("ecommerce", "京东的物流比你们快多了", "京东", "service"),
    ("ecommerce", "淘宝上退货都是上门取件，方便多了", "淘宝", "service"),
    ("ecommerce", "唯品会的正品有保障", "唯品会", "product"),
    ("ecommerce", "你们这速度也太慢了，我在京东买东西第二天就到了", "京东", "service"),   # delivery speed
    ("insurance", "四千三？平安昨天给我打电话，报的四千零几十", "中国平安", "price"),   # a name that acts is a company
    ("insurance", "我朋友去年在人保出险，三天钱就打过来了", "中国人保", "service"),   # claim speed
    ("telecom", "我家用的电信宽带，说实话挺稳的，三年没断过网", "中国电信", "network"),
    ("insurance", "国寿那边差不多的产品，每年少交一百多", "中国人寿", "price"),
    ("telecom", "一百二十八？电信才七十九，你们贵了快五十块", "中国电信", "price"),   # 电信才…: a company's price
])
def test_mention_brand_and_dimension(industry, text, brand, dimension):
    assert _found(_call(industry, ("customer", text))) == [(1, brand, dimension)]


@pytest.mark.parametrize("industry, text", [
    ("bank", "我老公说人平安就好，钱丢了就丢了"),
    ("telecom", "我每天给我妈打电话，让她报个平安"),
    ("insurance", "去年平安夜那天买的"),
    ("insurance", "祝您平平安安，再见"),
    ("insurance", "祝您一路平安"),
    ("telecom", "这属于电信诈骗的一种"),
    ("telecom", "这是电信网络诈骗，千万别回拨"),
    ("telecom", "我往窗户那边移动一下就好一点"),
    ("telecom", "您打开设置，点移动网络，然后点移动数据"),
    ("insurance", "今天是老人寿辰，我们全家去吃饭"),
    ("bank", "我每个月都是用工行的卡还款的"),
    ("bank", "我从建行卡转账过来还的"),
    ("bank", "我用建行卡给你们这张信用卡还的款"),          # the payment verb comes a clause-length later
    ("bank", "钱是我从招行那张工资卡上划过来还的"),
    ("bank", "农业银行的卡可以还花呗吗"),
    ("bank", "花呗为什么绑不了农业银行"),
    ("insurance", "坐船横渡太平洋"),
    ("insurance", "太平洋那么大"),
    ("telecom", "就是解放路上那个广电大厦，我们在十八楼"),
    ("ecommerce", "商家发的是京东快递，快递员态度特别差"),
    ("ecommerce", "快递员的问题你直接找京东快递投诉"),
    ("insurance", "新华书店旁边那个网点"),
    ("bank", "要发扬光大嘛"),
    ("insurance", "我老公在中国人寿上班"),
    ("insurance", "扣款卡换成农业银行的"),            # a bank in an insurance call
    ("telecom", "绑的银行卡和微信都不用动"),
    ("ecommerce", "我用支付宝付的款"),
    ("bank", "房贷是建行的卡自动扣，不影响吧？"),
    ("bank", "您的工行卡里留够当期账单的钱就行"),
    ("bank", "我平时用工行的卡给你们还，那张卡上现在就三千多"),
    ("telecom", "您最近有没有移动过光猫，或者碰过那根黄线？"),
    ("insurance", "我儿子在太平洋那边，美国，要我过去帮他带孩子"),
    ("insurance", "本来要坐邮轮横穿太平洋去夏威夷的"),
    ("insurance", "车上五个座位每人保十万，一年一百八十元"),          # cover per person, not 人保
    ("ecommerce", "我的橙屿PLUS会员自动续费了，扣了九十九，我不想续了"),   # a shop's own PLUS membership, not 京东's
    ("ecommerce", "收货地址是南昌市青山湖区京东大道那个小区"),           # a street
    ("insurance", "新地址是长宁区泰康南路八十六弄五号三零二"),           # a street with its quarter
])
def test_look_alikes_are_not_competitors(industry, text):
    assert _found(_call(industry, ("customer", text))) == []


def test_an_agent_naming_their_own_company_is_not_a_competitor():
    # no greeting with the company's name: the agent says who they are later (我这边联通的)
    call = _call("telecom", ("agent", "哦我这边联通的。现在有个套餐升级活动，您看要不要了解一下？"), greeting="喂，您好。")
    assert _found(call) == []
    assert [b for _, b, _ in _found(_call("telecom", ("customer", "我这边联通的信号比你们好。")))] == ["中国联通"]


def test_a_name_inside_the_centres_own_product_is_not_a_competitor():
    # 福泰康乐 is the product of 福泰保险, the centre itself: 泰康 only straddles its name
    pitch = ("agent", "那比较适合我们的福泰康乐老年防癌险，投保年龄到八十岁。")
    assert _found(_call("insurance", pitch, greeting="您好，福泰保险客服中心，请问有什么可以帮您？")) == []
    # the same words in a call of another centre still name 泰康
    assert [b for _, b, _ in _found(_call("insurance", ("customer", "泰康保险的防癌险便宜多了。")))] == ["泰康保险"]


def test_a_payment_card_compared_with_the_company_is_a_competitor():
    call = _call("bank", ("customer", "我建行的卡有一次也扣了年费，人家客服一个电话就给我免了，哪像你们。"))
    assert [(m[0], m[1]) for m in _found(call)] == [(1, "建设银行")]


def test_a_payment_card_named_again_is_still_the_customers_card():
    call = _call("bank", ("customer", "那房贷呢？房贷是建行的卡自动扣，不影响吧？"),
                 ("agent", "建行那张是他们行的卡，跟我们这边挂失没关系，不影响。"),
                 ("customer", "好的。"), ("customer", "说实话建行的客服比你们好多了"))
    assert _found(call) == [(4, "建设银行", "service")]   # three turns on, compared: a competitor again


@pytest.mark.parametrize("greeting, text, expected", [
    (None, "是移动的，她自己身份证办的", []),                              # 中国移动 call
    (None, "你们不都是移动吗？", []),
    ("您好，中国联通，很高兴为您服务", "移动那边给我便宜二十块", [(1, "中国移动", "price")]),
    ("您好，中国联通，很高兴为您服务", "联通我用了好多年了", []),
    ("喂，您好，这边是中国电信客服中心", "电信的宽带还行，联通的信号好", [(1, "中国联通", "network")]),
    ("您好，中国联通客服", "比您现在联通加电信两边加起来每个月要省一百", [(1, "中国电信", "price")]),
    ("中国移动客服，工号三零二，很高兴接到您的电话", "我这个手机到美国能用吗？移动的卡", []),   # greeting without 您好
    ("您好，请问有什么可以帮您", "你们移动的信号太差了", []),               # 你们 + brand
    ("嗯，您说。", "你们不都是移动吗？那我去联通", [(1, "中国联通", "product")]),  # no greeting
    ("您好，欢迎致电一零零八六", "移动的套餐太贵了", []),                   # hotline names the company
    ("您好，这里是中国移动，您之前是联通用户吧", "对", [(0, "中国联通", "product")]),
])
def test_own_brand_is_never_a_competitor(greeting, text, expected):
    call = _call("telecom", ("customer", text), greeting=greeting)
    assert _found(call) == expected


@pytest.mark.parametrize("agent_says, expected", [
    ("您在中国移动APP上就能退订", []),                  # the agent sends the customer to its own channel
    ("您去移动营业厅办一下", []),
    ("电信那边是首年优惠", [(1, "中国移动", "price"), (2, "中国电信", "price")]),   # no cue: next turn
])
def test_own_brand_from_agent_channels(agent_says, expected):
    call = _call("telecom", ("customer", "我用移动十年了"), ("agent", agent_says), greeting="嗯，您说。")
    assert _found(call) == expected


def test_own_brand_from_meta():
    conv = Conversation("t", [Turn("agent", "您好"), Turn("customer", "联通那边便宜")],
                        extra={"industry": "telecom", "own_brand": "联通"})
    assert _found(call_text(conv)) == []


@pytest.mark.parametrize("industry, text, expected", [
    ("telecom", "我招行的信用卡送了流量", []),
    ("telecom", "招行信用卡的客服都比你们服务好", [(1, "招商银行", "service")]),
    ("bank", "联通的话费我都是自动扣的", []),
    ("insurance", "农业银行的，卡号我报给你", []),
])
def test_other_industries_count_only_when_compared(industry, text, expected):
    assert _found(_call(industry, ("customer", text))) == expected


@pytest.mark.parametrize("text, brand, said", [
    ("我想转到联同去，他们那边便宜", "中国联通", "联同"),
    ("我招航的卡用了一年就提额了", "招商银行", "招航"),
    ("买的平按的，人家赔了", "中国平安", "平按"),
    ("我在国受有一份意外险", "中国人寿", "国受"),
    ("我看品多多那边便宜", "拼多多", "品多多"),
])
def test_garbled_names_found_by_sound(text, brand, said):
    industry = {"中国联通": "telecom", "招商银行": "bank", "拼多多": "ecommerce"}.get(brand, "insurance")
    raw = CallText("t", [TurnText(0, "agent", GREETING[industry]), TurnText(1, "customer", text)],
                   {"industry": industry})                                  # not normalised
    mentions = find_competitors(raw)
    assert [(m.brand, m.mention) for m in mentions] == [(brand, said)]
    assert mentions[0].score < 0.9                                          # below an exact name


@pytest.mark.parametrize("text", [
    "电线坏了", "联系一下", "电影院旁边", "我只能在网上买东西", "我们在做家庭号码的回访",
    "您可以打卡背面的官方客服电话核实",    # an everyday word a syllable off a name (官方/广发), by a frame
])
def test_sound_alike_common_words_are_not_names(text):
    raw = CallText("t", [TurnText(0, "customer", text)], {})                 # any industry
    assert find_competitors(raw) == []


def _raw(industry: str, text: str, role: str = "customer") -> CallText:
    """A call as our own transcription writes it (not normalised): greeting, then ``text``."""
    return CallText("t", [TurnText(0, "agent", GREETING[industry]), TurnText(1, role, text)],
                    {"industry": industry})


@pytest.mark.parametrize("industry, text, brand, said", [
    ("bank", "我同事用的普方那个卡，机场贵宾厅随便进", "浦发银行", "普方"),      # fa/fang: a coda
    ("bank", "平时主要用的是张航的卡", "招商银行", "张航"),                     # zhao/zhang
    ("bank", "这比工号那个贵多了", "工商银行", "工号"),                         # a real word, framed twice
    ("telecom", "广片那边我看了个套餐，二十九块钱", "中国广电", "广片"),         # d/p
    ("telecom", "三十九还是比广片贵十块", "中国广电", "广片"),                   # inside jieba's 比广片
    ("telecom", "变性那边我邻居用的，人家屋里满格", "中国电信", "变性"),         # d/b, a real word
    ("insurance", "我得看看我国售那分具体保什么", "中国人寿", "国售"),           # 我国|售, 那分 heard as 那份
    ("ecommerce", "我看听多多百亿补贴才三千九", "拼多多", "听多多"),             # p/t in a three-syllable name
    ("ecommerce", "经通那边买的还便宜一百", "京东", "经通"),                     # d/t
    ("telecom", "我想转到连东去，人家便宜", "中国联通", "连东"),
    ("telecom", "我在连同用了十年，都没被这么扣过钱", "中国联通", "连同"),    # tone off, a real word: 在 X 用了
    ("telecom", "一直没人管 变性那边我邻居用的", "中国电信", "变性"),           # Whisper's space ends a clause
    ("telecom", "宽带和电视都是广变的，一年才三百六", "中国广电", "广变"),       # a non-word between two frames
])
def test_garbled_names_in_a_brand_frame(industry, text, brand, said):
    mentions = find_competitors(_raw(industry, text))
    assert [(m.brand, m.mention) for m in mentions] == [(brand, said)]
    assert mentions[0].score <= 0.8                                         # below a name heard right


@pytest.mark.parametrize("industry, text, role", [
    ("bank", "您的工号是多少", "customer"),                  # 工号 as itself: no strong frame
    ("telecom", "我问的就是广变", "customer"),                # a non-word with one weak frame only
    ("bank", "您报一下 工号是多少", "customer"),              # a clause edge is no frame
    ("bank", "麻烦您报一下您的工号", "customer"),
    ("bank", "您用的工号是多少", "customer"),                # strong before, nothing after
    ("bank", "我叫张航，弓长张", "customer"),                # a person's name
    ("bank", "我是张航", "customer"),
    ("bank", "张航说他明天过来", "customer"),
    ("insurance", "我们全国售后都是统一处理的", "agent"),    # 国售 across 全国|售后
    ("insurance", "多收的保险费会退给您", "agent"),          # 多|收 is no word of its own
    ("insurance", "需要您本人到营业厅办理", "agent"),        # 人到 across 本人|到
    ("bank", "这个比较好", "customer"),                      # 比 inside 比较 is no frame
    ("bank", "您去服务中心那边问问", "customer"),            # 中心 is too common to be 中信
    ("bank", "您的华细营航金卡升级为白金卡", "agent"),       # 华细 vs 华夏: 银行 is no evidence
    ("telecom", "我们那边的套餐", "customer"),
    ("telecom", "这个套餐我已经用了三年", "customer"),         # 用了 after no name
    ("telecom", "连同上个月的一起用了", "customer"),            # 连同 with no frame before it
])
def test_same_sounds_without_a_brand_frame_are_not_names(industry, text, role):
    assert find_competitors(_raw(industry, text, role)) == []


@pytest.mark.parametrize("heard, name, close", [
    ("张航", "招行", 1), ("普方", "浦发", 1), ("变性", "电信", 1), ("国售", "国寿", 0), ("听多多", "拼多多", 1),
])
def test_near_counts_close_syllables(heard, name, close):
    fuzzy = registry.misc.get("cc.fuzzy_alias.v1")()
    fuzzy.index(["招行", "浦发", "电信", "国寿", "拼多多", "华夏银行"], generic=["银行"])
    near = fuzzy.near(heard)
    assert (near.name, near.close) == (name, close)
    assert fuzzy.near("华细营航") is None                    # xi/xia is no close syllable
    assert fuzzy.match("张航") is None                       # two syllables: only in a strong frame


def test_char_span_and_mention_are_the_words_said():
    call = _call("telecom", ("customer", "我看电信那边三百兆一个月六十，还有联通也便宜"))
    mentions = find_competitors(call)
    assert [(m.brand, m.mention) for m in mentions] == [("中国电信", "电信"), ("中国联通", "联通")]
    for m in mentions:
        assert call.turns[m.turn].text[m.char_start:m.char_end] == m.mention
        assert 0.0 < m.score <= 1.0


def test_dimension_follows_the_conversation():
    call = _call("bank",
                 ("customer", "工行那边给我推荐的一个，说是年化三点五左右。"),
                 ("agent", "我们这款业绩比较基准是年化四点二。"),
                 ("customer", "比工行那个高不少。"))
    assert _found(call) == [(1, "工商银行", "price"), (3, "工商银行", "price")]


def test_spacy_registrations():
    assert "competitor_finder" in registry.factories
    fuzzy = registry.misc.get("cc.fuzzy_alias.v1")(min_ratio=85.0)
    fuzzy.index(["中国联通", "联通"])
    assert fuzzy.match("联同") == ("联通", 100.0)
    assert fuzzy.match("电线") is None


def test_custom_lexicon_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "industries: [bank]\n"
        "brands:\n"
        "  - {brand: 华信银行, industry: bank, aliases: [华信银行, 华信]}\n"
        "dimensions:\n"
        "  price: [{weight: 0.9, words: [便宜]}]\n", encoding="utf-8")
    call = _call("bank", ("customer", "华信那边便宜"), ("customer", "招行那边便宜"))
    assert _found(call, patterns=path) == [(1, "华信银行", "price")]


def test_bundled_lexicon_is_broad():
    lexicon = load_competitor_patterns()
    for name in ("中国联通", "中国电信", "中国广电", "建设银行", "农业银行", "中国银行", "交通银行",
                 "邮储银行", "中信银行", "光大银行", "民生银行", "兴业银行", "浦发银行", "招商银行",
                 "平安银行", "中国人寿", "中国平安", "太平洋保险", "新华保险", "泰康保险", "中国人保",
                 "友邦保险", "京东", "淘宝", "天猫", "拼多多", "抖音", "苏宁易购", "唯品会"):
        assert name in lexicon.brands
    for alias in ("建行", "农行", "中行", "交行", "邮储", "招行", "国寿", "太保"):
        assert alias in lexicon.names


VALID_BRAND = "  - {brand: 甲, industry: bank, aliases: [甲行]}\n"
VALID_DIMS = "dimensions:\n  price: [{weight: 0.9, words: [便宜]}]\n"


@pytest.mark.parametrize("body, where", [
    ("industries: [bank]\nbrands:\n" + VALID_BRAND + "dimensions:\n  cost: [{words: [贵]}]\n",
     "dimensions.cost"),
    ("industries: [bank]\nbrands:\n" + VALID_BRAND + "  - {brand: 乙, industry: bank, aliases: [甲行]}\n"
     + VALID_DIMS, "brands[1] (乙)"),
    ("industries: [bank]\nbrands:\n  - {brand: 乙, industry: telecom, aliases: [乙行]}\n" + VALID_DIMS,
     "brands[0] (乙)"),
    ("industries: [bank]\nbrands:\n  - {brand: 乙, industry: bank}\n" + VALID_DIMS, "brands[0] (乙)"),
    ("industries: [bank]\nbrands:\n  - {brand: 乙, industry: bank, aliases: [乙行], reject: ['(']}\n"
     + VALID_DIMS, "brands[0] (乙): reject[0]"),
    ("industries: [bank]\nbrands:\n  - just a string\n" + VALID_DIMS, "brands[0]"),
    ("industries: [bank]\nbrands: [\n", "cannot read"),
    ("- a list\n", "expected a mapping"),
    ("industries: [bank]\nbrands:\n" + VALID_BRAND + VALID_DIMS + "sound_alike:\n  strong_after: {mars: [那边]}\n",
     "sound_alike.strong_after.mars"),
    ("industries: [bank]\nbrands:\n" + VALID_BRAND + VALID_DIMS + "sound_alike:\n  strong_before: [比, 3]\n",
     "sound_alike.strong_before"),
])
def test_bad_lexicon_file_names_file_and_entry(tmp_path, body, where):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_competitor_patterns(path)
    assert str(path) in str(err.value)
    assert where in str(err.value)
    assert isinstance(err.value, CompetitorPatternError)


def test_missing_lexicon_file(tmp_path):
    with pytest.raises(CompetitorPatternError, match="nothing.yaml"):
        load_competitor_patterns(Path(tmp_path / "nothing.yaml"))
