"""Normalisation and segmentation of call text."""

from __future__ import annotations

import pytest

from callscope.types import Conversation, Turn
from nlp.text import call_text, normalise, numbers_as_digits, words
from speech.lexicon import load_lexicon


@pytest.mark.parametrize("raw, expected", [
    ("我這個月話費怎麼多扣了", "我这个月话费怎么多扣了"),
    ("ＡＰＰ上查１０Ｇ", "APP上查10G"),
    ("我在連通用了十年", "我在联通用了十年"),          # sound-alike slip on a lexicon word
    ("我想辦攜號轉網", "我想办携号转网"),
])
def test_normalise(raw, expected):
    assert normalise(raw, load_lexicon()) == expected


@pytest.mark.parametrize("text, expected", [
    ("一百零八块钱", "108块钱"),
    ("五十八的", "58的"),
    ("三十块钱十个G", "30块钱10个G"),
    ("幺三八一二三四五六七八", "13812345678"),
    ("年化三点五左右", "年化3.5左右"),
    ("我想问一下", "我想问一下"),
    ("一般来说统一处理", "一般来说统一处理"),
    ("千万别点链接", "千万别点链接"),
    ("第一次", "第一次"),
])
def test_numbers_as_digits(text, expected):
    assert numbers_as_digits(text) == expected


def test_lexicon_words_are_single_jieba_words():
    assert "携号转网" in words("我想办携号转网")
    assert "流量包" in words("给我开个流量包")


def test_call_text_hides_labels_from_finders():
    conversation = Conversation("c1", [Turn("agent", "您好")], extra={"industry": "bank", "labels": {"reasons": []}})
    call = call_text(conversation)
    assert call.meta == {"industry": "bank"}
    assert call.turns[0].words == ["您好"]


@pytest.mark.parametrize("text, word, span", [
    ("请提供一下基础讯明核心份证后四为", "证后四位", (12, 16)),   # 身份证后四位 as Whisper heard it
    ("请问您是委号六六二一的机主吗", "是尾号", (3, 6)),
    ("我想问一下话费", "证后四位", None),
])
def test_sound_find(text, word, span):
    from nlp.text import sound_find

    assert sound_find(text, word) == span
