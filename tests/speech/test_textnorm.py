"""Simplified output and number-insensitive CER."""

from __future__ import annotations

import pytest

from speech.cer import ErrorCount, cer
from speech.textnorm import comparable_text, to_simplified, written_chars


def test_traditional_becomes_simplified():
    assert to_simplified("請問有什麼可以幫您？") == "请问有什么可以帮您?"


def test_traditional_zhu_particle_becomes_zhe_but_words_with_zhu_stay():
    # Whisper writes 别著急 / 放著吧; t2s alone leaves 著, which simplified text keeps only in words like 著名
    assert to_simplified("您別著急，卡就放著吧，聽著不錯") == "您别着急,卡就放着吧,听着不错"
    assert to_simplified("效果显著，一家著名的公司出的名著") == "效果显著,一家著名的公司出的名著"


@pytest.mark.parametrize(
    "reference, hypothesis",
    [
        ("话费五十八块", "話費58塊"),
        ("后四位是三七一二", "後四位是3712"),
        ("手机号幺三八一二三四五六七八", "手机号13812345678"),
        ("一百零八块钱", "108块钱"),
        ("额度从一万五调到两万", "额度从1万5调到2万"),  # Whisper writes amounts with 万
        ("申请十万", "申请100000"),
        ("工号零零三", "工号003"),  # a digit string keeps its zeros
        ("尾号八〇三六", "尾号8036"),
        ("每期百分之零点七", "每期百分之0.7"),
        ("一千五", "1千5"),
    ],
)
def test_numbers_and_script_do_not_count_as_errors(reference, hypothesis):
    assert cer(reference, hypothesis) == 0.0


def test_cer_counts_real_errors():
    assert cer("核实身份", "合时身份") == pytest.approx(0.5)
    assert comparable_text("您好，5G！") == "您好5G"


def test_different_numbers_still_count_as_errors():
    assert cer("工号零零三", "工号3") > 0  # the zeros of a digit string are said, so they count
    assert cer("一万五", "1万6") > 0
    assert cer("十万", "1万") > 0


def test_speech_rate_counts_characters_as_written():
    assert written_chars("五十八块，好的！") == 6
    assert written_chars("58塊") == 3


def test_error_count_is_weighted_by_reference_length():
    count = ErrorCount()
    count.add("请问有什么可以帮到您", "请问有什么可以帮到您")  # 10 chars, 0 errors
    count.add("你好", "你")  # 2 chars, 1 error
    assert count.cer == pytest.approx(1 / 12)
