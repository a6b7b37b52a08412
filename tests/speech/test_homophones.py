"""General homophone correction: what it must fix, what it must leave alone, its cache and switch."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from speech.homophones import (
    CACHE_VERSION,
    HomophoneSettings,
    LanguageTables,
    _read_cache,
    _write_cache,
    cache_path,
    load_corrector,
    main,
)
from speech.lexicon import load_lexicon
from speech.model import ModelSpec
from speech.transcribe import AsrOptions, Transcriber


@pytest.fixture(scope="module")
def corrector():
    """The real corrector (jieba words, Pinyin2Hanzi bigrams) protecting the bundled lexicon."""
    return load_corrector(tuple(load_lexicon().words()))


@pytest.mark.parametrize(
    "heard, meant",
    [
        ("核实依下身份", "核实一下身份"),
        ("麻烦您稍等依下", "麻烦您稍等一下"),
        ("我跟您合对一下", "我跟您核对一下"),
        ("好的,我跟您合对依下。", "好的,我跟您核对一下。"),  # punctuation kept, both runs fixed
        ("请提供一下吃卡人的姓名", "请提供一下持卡人的姓名"),  # 3 syllables, one tone off (chi1 / chi2)
        ("他有高薛鸦", "他有高血压"),  # xue1 / xue4
        ("下历败就得交", "下礼拜就得交"),  # li4 / li3
        ("在加油战刷卡", "在加油站刷卡"),  # 加油战 is a (rare) jieba word, 加油站 a far more frequent one
    ],
)
def test_fixes_sound_alike_non_words(corrector, heard, meant):
    assert corrector.correct(heard) == meant


@pytest.mark.parametrize(
    "text",
    [
        "您看这个方案合适吗",  # 合适 is a word: never turned into the more frequent 核实
        "我想查询一下这个月的账单",
        "您好,很高兴为您服务",
        "可以用积分抵扣年费",
        "我叫刘建国",  # names
        "请问是王建国先生吗",
        "我叫李秀英",
        "每7还款300元",  # digits
        "ok那我发个wifi密码",  # Latin letters
        "我想问一下微信的事情",  # lexicon terms (微信, 年化, 工信部 are not in jieba's dictionary)
        "这款产品的年化收益是多少",
        "我要去工信部投诉",
        "",
        "依",
    ],
)
def test_leaves_correct_text_names_digits_and_terms_alone(corrector, text):
    assert corrector.correct(text) == text


def test_protected_words_are_never_changed():
    assert load_corrector().correct("我跟您合对一下") == "我跟您核对一下"
    assert load_corrector(("合对",)).correct("我跟您合对一下") == "我跟您合对一下"


def test_two_character_spans_must_match_with_tones(corrector):
    # 剪面 jian3 mian4 is no word and sounds like 减免 jian3 mian3 but for one tone: too little to go on
    assert corrector.correct("同意剪面") == "同意剪面"


def test_tone_and_word_costs_switch_their_extensions_off():
    strict_tones = load_corrector(settings=HomophoneSettings(tone_cost=100.0))
    assert strict_tones.correct("请提供一下吃卡人的姓名") == "请提供一下吃卡人的姓名"
    assert strict_tones.correct("核实依下身份") == "核实一下身份"  # same-toned matches still work
    keep_words = load_corrector(settings=HomophoneSettings(word_cost=100.0))
    assert keep_words.correct("在加油战刷卡") == "在加油战刷卡"
    assert keep_words.correct("请提供一下吃卡人的姓名") == "请提供一下持卡人的姓名"


def test_a_high_change_cost_turns_it_off():
    assert load_corrector(settings=HomophoneSettings(change_cost=100.0)).correct("核实依下身份") == "核实依下身份"


def test_cache_round_trip_and_damage(tmp_path):
    tables = LanguageTables({"一下": 10, "持卡人": 5}, 100, {"yi1 xia4": "一下", "chi2 ka3 ren2": "持卡人"},
                            {"chi ka ren": ("chi2 ka3 ren2",)}, {"一": {"下": -1.0}}, {"一": -9.0})
    path = tmp_path / f"homophones-v{CACHE_VERSION}.pkl"
    assert _read_cache(path) is None  # missing
    (tmp_path / "homophones-v0.pkl").write_bytes(b"an older version's cache")
    _write_cache(path, tables)
    assert _read_cache(path) == tables
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file or old version left
    path.write_bytes(path.read_bytes()[:100])  # truncated
    assert _read_cache(path) is None
    path.write_bytes(b"not a pickle")
    assert _read_cache(path) is None
    with open(path, "wb") as f:  # built from other package versions: stale
        pickle.dump({"header": {"version": CACHE_VERSION, "jieba": "0.0"}, "tables": {}}, f)
    assert _read_cache(path) is None


def test_module_entry_builds_or_checks_the_cache(capsys, corrector):
    main()  # what `make setup` runs; the fixture has already built the default cache, so this only reads it
    assert cache_path().exists()
    assert str(cache_path()) in capsys.readouterr().out


def test_switch_in_transcriber_cleaning_and_provenance():
    spec = ModelSpec(Path("unused"))  # cleaning text never touches the model
    on = Transcriber(spec, AsrOptions(), load_lexicon())
    off = Transcriber(spec, AsrOptions(correct_homophones=False), load_lexicon())
    assert on.clean("核实依下身份") == "核实一下身份"
    assert off.clean("核实依下身份") == "核实依下身份"
    assert on.clean("分七还款") == "分期还款"  # the lexicon still runs first
    assert on.provenance()["homophones"]["ran"] is True
    assert on.provenance()["homophones"]["change_cost"] == HomophoneSettings().change_cost
    assert on.provenance()["homophones"]["tone_cost"] == HomophoneSettings().tone_cost
    assert off.provenance() == {"homophones": {"ran": False}}
    assert on.options.to_dict()["correct_homophones"] is True


def test_cli_has_the_switch():
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, ["transcribe", "--help"])
    assert result.exit_code == 0
    assert "--no-homophones" in result.output
