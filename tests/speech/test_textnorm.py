"""Simplified output and number-insensitive CER."""

from __future__ import annotations

import pytest

from speech.cer import ErrorCount, cer
from speech.textnorm import comparable_text, to_simplified


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
    ],
)
def test_numbers_and_script_do_not_count_as_errors(reference, hypothesis):
    assert cer(reference, hypothesis) == 0.0


def test_cer_counts_real_errors():
    assert cer("核实身份", "合时身份") == pytest.approx(0.5)
    assert comparable_text("您好，5G！") == "您好5G"


def test_error_count_is_weighted_by_reference_length():
    count = ErrorCount()
    count.add("一二三四五六七八九十", "一二三四五六七八九十")  # 10 chars, 0 errors
    count.add("你好", "你")  # 2 chars, 1 error
    assert count.cer == pytest.approx(1 / 12)
