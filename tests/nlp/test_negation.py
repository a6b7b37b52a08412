"""The shared check for a cue taken back: negated before it, dropped after it."""

from nlp.negation import SPEND_CUT_NEGATION, denied, dropped, negated


def test_cue_negated_by_a_word_just_before_it():
    text = "我不需要分期"
    assert negated(text, text.index("要分期"))          # 不需|要分期
    assert negated(text, text.index("分期"))


def test_is_it_so_question_is_not_a_negation():
    text = "是不是流量超了"
    assert not negated(text, text.index("流量"))
    text = "我不是流量超了"
    assert negated(text, text.index("流量"))


def test_bare_bu_denies_a_spend_cut_but_not_a_reason():
    text = "新卡还没开卡"
    assert not negated(text, text.index("开卡"))
    text = "不降档没事吧"
    assert negated(text, text.index("降档"), SPEND_CUT_NEGATION)
    assert not negated(text, text.index("降档"))


def test_cue_dropped_after_an_ellipsis():
    text = "换个套餐……算了吧"
    end = text.index("套餐") + 2
    assert dropped(text, end)
    assert denied(text, text.index("换个"), end)
    text = "换个套餐，要便宜一点的那种，能省好多钱呢算了"
    assert not dropped(text, text.index("套餐") + 2)
