"""The domain lexicon: parsing with located errors, Whisper prompt, sound-alike slip correction."""

from __future__ import annotations

import pytest

from speech.lexicon import Lexicon, LexiconError, Term, load_lexicon


def test_bundled_lexicon_loads_with_domain_terms():
    lexicon = load_lexicon()
    words = lexicon.words()
    for term in ("流量包", "携号转网", "招商银行", "招行", "千兆"):
        assert term in words


def test_prompt_is_simplified_and_bounded():
    prompt = load_lexicon().prompt(max_chars=60)
    assert len(prompt) <= 60
    assert prompt.startswith("以下是普通话的客服电话录音")
    assert "客服" in prompt


@pytest.mark.parametrize(
    "heard, meant",
    [
        ("我想办一个签罩宽带", "我想办一个千兆宽带"),
        ("可以申请张单分期吗", "可以申请账单分期吗"),
        ("我打了克服电话", "我打了客服电话"),
        ("先跟您合时一下", "先跟您核实一下"),
        ("麻烦提供一下机主性名", "麻烦提供一下机主姓名"),
        ("我想办赞单分期", "我想办账单分期"),
        ("我要办理心用卡", "我要办理信用卡"),
        ("今天天气很好", "今天天气很好"),
        ("您看这个方案合适吗", "您看这个方案合适吗"),  # he2shi4: not 核实 (he2shi2)
        ("可以分七还款吗", "可以分期还款吗"),  # 分七 is no word: toneless match allowed
        ("分7的话每期手续费", "分期的话每期手续费"),  # Whisper writes the syllable qi as the digit 7
        ("我从来没逾7过", "我从来没逾期过"),
        ("分7期还款", "分7期还款"),  # a digit before a counted word is a number
        ("我有1张卡", "我有1张卡"),
        ("每月送四十个级通用流量", "每月送四十个G通用流量"),
        ("超过40级高速流量以后限速", "超过40G高速流量以后限速"),
        ("这是十级伤残", "这是十级伤残"),
        ("我要办流量包", "我要办流量包"),
        ("请问是尾号6621的基础张先生吗", "请问是尾号6621的机主张先生吗"),  # 机主 heard as 基础
        ("麻烦提供一下基础姓名核身份证后四位", "麻烦提供一下机主姓名和身份证后四位"),
        ("尾号0692的基础吗", "尾号0692的机主吗"),
        ("打好基础很重要", "打好基础很重要"),  # 基础 that names no person stays
        ("基础套餐每月八元", "基础套餐每月八元"),
        ("收获人姓名是", "收货人姓名是"),
        ("今年收获很大", "今年收获很大"),
        ("我要转往,怎么弄", "我要转网,怎么弄"),  # 转网 heard as 转往
        ("转往不让转", "转网不让转"),
        ("这班车转往北京", "这班车转往北京"),  # a 转往 with a destination stays
        ("我想问一下力赔的进度", "我想问一下理赔的进度"),  # 下力 is a word, but too rare to protect
        ("直接帮您把卡机火", "直接帮您把卡激活"),
    ],
)
def test_sound_alike_slips_are_corrected(heard, meant):
    assert load_lexicon().correct(heard) == meant


def test_correction_leaves_latin_and_digits_alone():
    lexicon = Lexicon((Term("千兆"),))
    assert lexicon.correct("5G套餐128元签罩") == "5G套餐128元千兆"


@pytest.mark.parametrize(
    "content, message",
    [
        ("流量包 product\n流量包 product\n", r"lex.txt:2: term '流量包' already defined on line 1"),
        ("招商银行 brand 招行 extra\n", r"lex.txt:1: expected 'TERM \[CATEGORY\] \[ALIAS\|ALIAS\]'"),
    ],
)
def test_malformed_lexicon_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "lex.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_lexicon(path)


@pytest.mark.parametrize(
    "line, message",
    [("/(unclosed/ x", "bad regular expression"), ("/a/ \\2", "bad replacement"), ("/", "REGEX/ REPLACEMENT")],
)
def test_bad_rewrite_lines_name_the_line(tmp_path, line, message):
    path = tmp_path / "lex.txt"
    path.write_text(f"流量包\n{line}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=f"lex.txt:2: .*{message}"):
        load_lexicon(path)


def test_unreadable_lexicon(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(LexiconError, match="cannot read lexicon"):
        load_lexicon(path)


def test_customer_lexicon_with_aliases(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text("# ours\n宝宝卡 product 宝卡|亲子卡\n", encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon.terms == (Term("宝宝卡", "product", ("宝卡", "亲子卡")),)
    assert lexicon.words() == ["宝宝卡", "宝卡", "亲子卡"]


@pytest.mark.parametrize("text", ["我确认收货了", "确认收到短信", "我已经确认收款"])
def test_span_cutting_through_two_words_is_not_replaced(text):
    """认收 sounds like the alias 人寿 without tones, but it is the halves of 确认 and 收货."""
    assert load_lexicon().correct(text) == text


def test_a_span_made_of_the_halves_of_two_words_is_kept_however_exactly_it_sounds():
    lexicon = load_lexicon()
    assert lexicon.correct("参加合约送手机活动") == "参加合约送手机活动"     # 手机 + 活动, not 激活
    assert lexicon.correct("我想机活一下我的卡") == "我想激活一下我的卡"     # a slip between non-words
