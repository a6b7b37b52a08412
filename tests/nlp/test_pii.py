"""PII spans (phone, id, card, address, name) in written and spoken forms, masking, and the pattern file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from callscope.types import Conversation, PiiSpan, Turn
from nlp.pii import DEFAULT_PATTERNS, find_pii, load_pii_patterns, mask_text
from nlp.pii.recognizers import NumberRecognizer, TailRecognizer
from nlp.text import CallText, TurnText, call_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "calls"


def call(*turns: str | tuple[str, str]) -> CallText:
    """A call from turn texts; a bare string is a customer turn, a tuple is (role, text)."""
    pairs = [t if isinstance(t, tuple) else ("customer", t) for t in turns]
    return call_text(Conversation("test", [Turn(role, text) for role, text in pairs]))


def found(ct: CallText, turn: int = -1) -> list[tuple[str, str]]:
    """(kind, text) of the spans in one turn (the last by default)."""
    index = ct.turns[turn].index
    return [(s.kind, s.text) for s in find_pii(ct) if s.turn == index]


@pytest.mark.parametrize("text, kind, span, masked", [
    ("我的手机号是13812345678。", "phone", "13812345678", "138****5678"),
    ("号码是幺三八一二三四五六七八", "phone", "幺三八一二三四五六七八", "幺三八****五六七八"),
    ("一三八 一二三四 五六七八", "phone", "一三八 一二三四 五六七八", "一三八 **** 五六七八"),
    ("新号码一三六，二一四七，八八九零。", "phone", "一三六,二一四七,八八九零", "一三六,****,八八九零"),
    ("号码是1三8，嗯，1234，五六七八", "phone", "1三8,嗯,1234,五六七八", "1三8,嗯,****,五六七八"),
    ("座机010-62345678", "phone", "010-62345678", "010-****5678"),
    ("座机零五七一杠八七六五四三二一", "phone", "零五七一杠八七六五四三二一", "零五七*杠****四三二一"),
    ("身份证号11010519491231002X", "id_card", "11010519491231002X", "1****************X"),
    ("身份证是幺幺零幺零五幺九四九幺二三幺零零二X", "id_card", "幺幺零幺零五幺九四九幺二三幺零零二X",
     "幺****************X"),
    ("我那个老身份证号是110101900307123", "id_card", "110101900307123", "1*************3"),
    ("卡号是6222 0212 3456 7890 128", "bank_card", "6222 0212 3456 7890 128", "6222 **** **** ***0 128"),
    ("4111111111111111", "bank_card", "4111111111111111", "4111********1111"),
])
def test_whole_numbers_written_and_spoken(text, kind, span, masked):
    spans = find_pii(call(text))
    assert [(s.kind, s.text, s.masked) for s in spans] == [(kind, span, masked)]


@pytest.mark.parametrize("text", [
    "身份证号110101199003074257",          # checksum fails: kept only with 身份证 nearby ...
])
def test_failed_id_checksum_is_kept_next_to_id_words(text):
    assert found(call(text)) == [("id_card", "110101199003074257")]


@pytest.mark.parametrize("text", [
    "110101199003074257",                   # ... and dropped without it (Presidio: invalid)
    "4111111111111112",                     # Luhn fails, no card words
    "860220240033175",                      # 15 digits but not a date: a policy number
    "990101900307123",                      # 15 digits, 99 is no province
    "12345678901",                          # 11 digits not starting 1[3-9]
    "订单号是13812345678",                   # negative context
    "验证码是一三八二一二三四五六七",
    "工单号是T二零二六一零二七零四一五",
    "这个月扣了一百零八块，九月十五号订的，套餐五十八，二零二四年办的，一年六百。",
    "我套餐是一百二十八的，流量十五个G，每月三十元，十二期每期一百零八元。",
    "有问题打一零零八六，或者打12315投诉，国际长途零零六七五开头的。",
    "我家老太太住院那阵子，在超市上班，路由器坏了，城市里信号差，有些地区没信号，一路顺风。",
    "商家十七号拒绝了，我十六号申请的，二十五号签收。",
    "我家附近是你们中山路那个网点。",
    ("agent", "您好，我是客服小李，工号一二三四，我叫李娜。"),
    "好的刘先生，谢谢王先生，陈女士您好。",
    "我是江苏的，我是高中生，我很高兴。",
])
def test_not_pii(text):
    """Amounts, dates, prices, service numbers, ids of orders, common words, surnames alone."""
    assert found(call(text)) == []


@pytest.mark.parametrize("turns, expected", [
    (["我叫刘建国，身份证后六位是，嗯，二一零零一五。"], [("name", "刘建国"), ("id_card", "二一零零一五")]),
    (["手机尾号5678，卡号末四位是4321。"], [("phone", "5678"), ("bank_card", "4321")]),
    ([("agent", "新卡卡号的后四位是多少？"), "后四位……我看看啊，六六八二。"], [("bank_card", "六六八二")]),
    ([("agent", "您这个尾号九零五六的号码对吧？")], [("phone", "九零五六")]),
    ([("agent", "打到您尾号八六一二的银行卡上。")], [("bank_card", "八六一二")]),
    ([("agent", "您有两张信用卡，尾号三一七七和尾号九零零二。")],
     [("bank_card", "三一七七"), ("bank_card", "九零零二")]),
    ([("agent", "麻烦您说一下身份证后四位。"), "〇六二四。"], [("id_card", "〇六二四")]),
    ([("agent", "麻烦提供一下机主姓名和身份证后四位。"), "那个，机主是我，林浩然，后四位五六一三。"],
     [("name", "林浩然"), ("id_card", "五六一三")]),
    ([("agent", "请提供一下身份证后六位。"), "零七一五二X。"], [("id_card", "零七一五二X")]),
])
def test_number_tails_after_a_cue_or_as_the_answer(turns, expected):
    assert found(call(*turns)) == expected


@pytest.mark.parametrize("turns", [
    [("agent", "麻烦提供一下身份证后四位。"), "嗯，二零一九年办的卡，后四位我忘了。"],
    [("agent", "麻烦提供一下身份证后四位。"), "一二三。"],          # three digits for 后四位
    [("agent", "后四位是多少？")],
])
def test_number_tails_need_the_announced_length(turns):
    assert found(call(*turns)) == []


def test_a_tail_said_again_later_is_found_again():
    ct = call(("agent", "您名下信用卡尾号三一七七，对吗？"), "对，三一七七那张丢了。", ("agent", "好，三一七七这张已挂失。"))
    assert [(s.turn, s.text) for s in find_pii(ct)] == [(0, "三一七七"), (1, "三一七七"), (2, "三一七七")]


@pytest.mark.parametrize("turns, expected", [
    (["我家在城西新村，屋里就一格信号。"], "城西新村"),
    (["就是解放路上那个广电大厦，我们在十八楼。"], "解放路上那个广电大厦,我们在十八楼"),
    (["地址是南京市江宁区，双龙大道，嗯，一五零九号，锦绣花园七栋二单元六零一。"],
     "南京市江宁区,双龙大道,嗯,一五零九号,锦绣花园七栋二单元六零一"),
    (["装在我新家，清河路二百号，五单元六零二。"], "清河路二百号,五单元六零二"),
    (["我家住在杭州市西湖区文三路100号3幢2单元501室"], "杭州市西湖区文三路100号3幢2单元501室"),
    ([("agent", "新家地址是哪里？"), "阳光小区十二栋"], "阳光小区十二栋"),
    ([("agent", "您登记的地址是沙港镇，对吗？")], "沙港镇"),
])
def test_addresses(turns, expected):
    assert found(call(*turns)) == [("address", expected)]


@pytest.mark.parametrize("turns, expected", [
    (["我叫刘建国，想查一下话费。"], "刘建国"),
    (["您好，我是王小明，想问下话费。"], "王小明"),
    (["我是刘建国本人。"], "刘建国"),
    (["我姓王，王小明。"], "王小明"),
    ([("agent", "请问怎么称呼？"), "免贵姓欧阳，欧阳娜娜。"], "欧阳娜娜"),
    ([("agent", "麻烦报一下您的姓名和身份证后四位。"), "陈静，后四位三三零六。"], "陈静"),
    ([("agent", "收货人姓名？"), "董浩。"], "董浩"),
    (["对，收货人沈晓红。"], "沈晓红"),
    ([("agent", "请问是林晓雯女士本人吗？")], "林晓雯"),
    ([("agent", "请问是唐志强先生本人吗？")], "唐志强"),
    ([("agent", "投保人是陈红梅是吧？")], "陈红梅"),
])
def test_names(turns, expected):
    spans = [s for s in find_pii(call(*turns)) if s.kind == "name"]
    assert [s.text for s in spans] == [expected]
    keep = 2 if expected.startswith("欧阳") else 1
    assert spans[0].masked == expected[:keep] + "*" * (len(expected) - keep)


def test_agent_self_introduction_is_not_customer_pii():
    ct = call(("agent", "您好，我叫李娜，工号一二三四。"), ("customer", "我叫王芳。"))
    assert [(s.turn, s.text) for s in find_pii(ct)] == [(1, "王芳")]


def test_spans_are_offsets_into_the_normalised_text():
    ct = call("你好，我叫劉建國，電話是幺三八 一二三四 五六七八，住在城西新村。")
    spans = find_pii(ct)
    assert {s.kind for s in spans} == {"name", "phone", "address"}
    for s in spans:
        assert ct.turns[s.turn].text[s.char_start:s.char_end] == s.text


def test_mask_text_masks_every_span():
    ct = call("我叫刘建国，电话13812345678，住在城西新村。")
    text = ct.turns[0].text
    assert mask_text(text, find_pii(ct)) == "我叫刘**,电话138****5678,住在[地址]。"


@pytest.mark.parametrize("spans, expected", [
    # two masks overlapping: every hidden character stays hidden
    ([PiiSpan(0, "phone", 0, 11, "13812345678", "138****5678"),
      PiiSpan(0, "bank_card", 7, 11, "5678", "****")], "138********号"),
    # a replacing span swallows what it overlaps
    ([PiiSpan(0, "address", 0, 8, "13812345", "[地址]"),
      PiiSpan(0, "phone", 0, 11, "13812345678", "138****5678", 0.5)], "[地址]号"),
    # masked left empty: the default operator of the kind is used
    ([PiiSpan(0, "phone", 0, 11, "13812345678", "")], "138****5678号"),
])
def test_mask_text_merges_overlapping_spans(spans, expected):
    assert mask_text("13812345678号", spans) == expected


def test_mask_text_rejects_a_span_from_another_text():
    with pytest.raises(ValueError, match="not in this text"):
        mask_text("你好", [PiiSpan(3, "name", 0, 2, "刘建", "刘*")])


@pytest.mark.parametrize("kind, text, masked", [
    ("phone", "四三一七", "****"),                 # a tail is a secret: all hidden
    ("id_card", "二八零四二一", "******"),
    ("bank_card", "6228480402564890018", "6228***********0018"),
    ("name", "欧阳娜娜", "欧阳**"),
    ("name", "陈静", "陈*"),
    ("address", "城西新村", "[地址]"),
])
def test_operators_per_kind(kind, text, masked):
    assert load_pii_patterns().mask(kind, text) == masked


def test_recognizers_are_presidio_shaped():
    recognizers = {r.name: r for r in load_pii_patterns().recognizers}
    ids, tails = recognizers["resident_id"], recognizers["number_tail"]
    assert isinstance(ids, NumberRecognizer) and isinstance(tails, TailRecognizer)
    assert ids.kinds == ("id_card",) and ids.validate_result("11010519491231002X") is True
    assert ids.validate_result("110105194912310021") is False
    assert recognizers["bank_card"].validate_result("4111111111111111") is True
    spans = tails.analyze(TurnText(0, "customer", "后四位是三七一二"))
    assert [(s.kind, s.char_start, s.char_end) for s in spans] == [("phone", 4, 8)]


def _write(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(DEFAULT_PATTERNS.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "pii.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d["recognizers"][0].update(kind="email"),
     r"recognizers\[0\] \(mobile_phone\).*unknown kind 'email'"),
    (lambda d: d["recognizers"][4]["patterns"][0].update(regex="[1-9"), r"bank_card.*bad regex card"),
    (lambda d: d["recognizers"][2].update(validate="crc"), r"resident_id.*unknown validate 'crc'"),
    (lambda d: d["recognizers"][1].update(typo=1), r"landline.*unknown key\(s\) typo"),
    (lambda d: d["recognizers"][0].update(type="magic"), r"recognizers\[0\].*unknown type 'magic'"),
    (lambda d: d["recognizers"][5]["kinds"].update(passport=["护照"]),
     r"number_tail.*unknown kind 'passport'"),
    (lambda d: d["operators"].update(phone={"type": "blur"}),
     r"operators.phone.*unknown operator type 'blur'"),
    (lambda d: d["operators"]["phone"].update(keep_first="3"), r"operators.phone.*keep_first"),
    (lambda d: d["operators"].pop("name"), r"no operator for kind\(s\) name"),
    (lambda d: d.update(threshold=3), r"'threshold' must be between 0 and 1"),
])
def test_bad_pattern_files_name_file_and_entry(tmp_path, change, message):
    path = _write(tmp_path, change)
    with pytest.raises(ValueError, match=message) as err:
        load_pii_patterns(path)
    assert str(path) in str(err.value)


def test_a_custom_pattern_file_is_used(tmp_path):
    def change(data):
        data["operators"].update(address={"type": "replace", "value": "<ADDR>"},
                                 name={"type": "hash", "value": "NAME-"})
    spans = find_pii(call("我叫刘建国，家在城西新村。"), patterns=_write(tmp_path, change))
    assert [s.masked for s in spans][1] == "<ADDR>"
    assert spans[0].masked.startswith("NAME-") and len(spans[0].masked) == 13


def _corpus() -> list[CallText]:
    files = sorted(CORPUS.glob("*.json"))
    if not files:
        pytest.skip("corpus not available")
    return [call_text(Conversation.from_dict(json.loads(f.read_text(encoding="utf-8")))) for f in files]


def test_corpus_identity_answers_are_all_found():
    """Every customer reply to 姓名和身份证后四位 yields the name and the id tail."""
    asked = hits = 0
    for ct in _corpus():
        spans = find_pii(ct)
        for prev, turn in zip(ct.turns, ct.turns[1:], strict=False):
            if prev.role == "agent" and "姓名" in prev.text and "身份证" in prev.text and "后四位" in prev.text:
                asked += 1
                kinds = {s.kind for s in spans if s.turn == turn.index}
                hits += kinds >= {"name", "id_card"}
    assert asked >= 20 and hits == asked


