"""Call outcome from the transcript: cue rules with known answers, a trained model, and the shipped default."""

from __future__ import annotations

import pytest

from callscope.types import Turn
from models.corpus import load_corpus
from models.outcome import (
    DEFAULT_CUES,
    fit_outcome,
    load_outcome,
    load_outcome_cues,
    outcome_examples,
    predict_outcome,
    save_outcome,
)
from models.store import DEFAULT_MODEL
from nlp.taxonomy import load_taxonomy
from tests.conftest import SHARED

CALLS = SHARED / "corpus" / "calls"
PITCH = "您好，我们现在有一个流量包，每月十块钱多十个G，您看需要吗？"


def _call(*lines: str) -> list[dict]:
    """Turns alternating agent, customer, agent... from plain lines."""
    return [{"role": "agent" if i % 2 == 0 else "customer", "text": text} for i, text in enumerate(lines)]


@pytest.fixture(scope="module")
def cues():
    return load_outcome_cues(None)


def test_clear_refusal_is_refused(cues):
    turns = _call(PITCH, "不需要，别再打了。", "好的，打扰您了，再见。")
    label, share = predict_outcome(cues, turns, "outbound")
    assert label == "refused"
    assert 0.5 < share <= 1.0


def test_agreeing_to_sign_up_is_success(cues):
    turns = _call(PITCH, "行，那就办一个吧。", "好的，已经给您提交了，稍后会收到短信。", "好，谢谢。")
    assert predict_outcome(cues, turns, "outbound")[0] == "success"


def test_wanting_to_think_it_over_is_callback(cues):
    turns = _call(PITCH, "我再考虑考虑，你过几天再打给我吧。", "好的，那我下周再联系您，再见。")
    assert predict_outcome(cues, turns, "outbound")[0] == "callback"


def test_escalation_to_a_work_order_is_escalated(cues):
    turns = _call("您好，请问有什么可以帮您？", "我家宽带断了三天了，到现在没人来修！",
                  "非常抱歉，我给您提交加急工单，升级到装维主管处理，二十四小时内给您回电。",
                  "行，我等电话。", "好的，感谢您的来电，再见。")
    assert predict_outcome(cues, turns, "inbound")[0] == "escalated"


def test_giving_up_is_unresolved_and_thanks_is_resolved(cues):
    gave_up = _call("您好，请问有什么可以帮您？", "我的网一直很慢。", "这个不归我们管。",
                    "算了算了，跟你说也没用，你们等着。")
    fixed = _call("您好，请问有什么可以帮您？", "我想退订彩铃。", "好的，已经帮您退订了。", "好的谢谢，没有了。")
    assert predict_outcome(cues, gave_up, "inbound")[0] == "unresolved"
    assert predict_outcome(cues, fixed, "inbound")[0] == "resolved"


def test_negation_is_not_agreement(cues):
    """需要 (a yes) must not be found inside 不需要 (a no)."""
    said_no = _call(PITCH, "不需要。")
    said_yes = _call(PITCH, "需要，帮我办一下吧。")
    assert cues.scores(said_no, "outbound")["success"] == 0
    assert predict_outcome(cues, said_no, "outbound")[0] == "refused"
    assert predict_outcome(cues, said_yes, "outbound")[0] == "success"
    assert cues.scores(said_yes, "outbound")["refused"] == 0


def test_cues_outside_the_window_or_by_the_wrong_party_do_not_count(cues):
    early = _call(PITCH, "不需要。", *["嗯，您说。", "嗯。"] * 5)       # 10 neutral turns after the refusal
    agent_says = [{"role": "agent", "text": "您是不是觉得不需要？"}, {"role": "customer", "text": "嗯。"}]
    assert cues.scores(early, "outbound")["refused"] == 0
    assert cues.scores(agent_says, "outbound")["refused"] == 0


def test_no_cue_gives_the_default_label(cues):
    turns = _call("您好。", "嗯。")
    assert predict_outcome(cues, turns, "inbound")[0] == "resolved"
    assert predict_outcome(cues, turns, "outbound")[0] == "refused"
    with pytest.raises(ValueError, match="sideways"):
        predict_outcome(cues, turns, "sideways")


def _write(tmp_path, text):
    path = tmp_path / "outcome.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD_OUTBOUND = "outbound:\n  default: refused\n  success:\n    - {role: customer, cues: [办吧]}\n"


def test_label_of_the_other_direction_is_an_error_naming_file_and_entry(tmp_path):
    path = _write(tmp_path, "inbound:\n  default: resolved\n  success:\n    - {role: customer, cues: [办吧]}\n"
                  + GOOD_OUTBOUND)
    message = r"outcome\.yaml: inbound\.success: 'success' is not one of the inbound outcomes"
    with pytest.raises(ValueError, match=message):
        load_outcome_cues(path)


def test_bad_regex_is_an_error_naming_file_and_entry(tmp_path):
    path = _write(tmp_path, "inbound:\n  default: resolved\n  escalated:\n    - {role: agent, cues: [工单, 're:(升级']}\n"
                  + GOOD_OUTBOUND)
    with pytest.raises(ValueError, match=r"outcome\.yaml: inbound\.escalated\[0\]\.cues\[1\]: bad regular expression"):
        load_outcome_cues(path)


def test_bad_role_and_default_are_errors(tmp_path):
    bad_role = _write(tmp_path, "inbound:\n  default: resolved\n  resolved:\n    - {role: boss, cues: [好]}\n"
                      + GOOD_OUTBOUND)
    with pytest.raises(ValueError, match=r"inbound\.resolved\[0\]\.role: 'boss'"):
        load_outcome_cues(bad_role)
    bad_default = _write(tmp_path, "inbound:\n  default: success\n" + GOOD_OUTBOUND)
    with pytest.raises(ValueError, match=r"inbound\.default: 'success'"):
        load_outcome_cues(bad_default)


def test_shipped_cue_file_loads():
    loaded = load_outcome_cues(str(DEFAULT_CUES))
    assert set(loaded.defaults) == {"inbound", "outbound"}
    assert {g.label for g in loaded.groups["outbound"]} == {"success", "refused", "callback"}


YES = ["行，那就给我开通吧。", "好的，可以，帮我办理。", "对，就要这个，开吧。", "可以可以，你给我开上。"]
NO = ["不要不要，我用不着。", "没兴趣，挂了。", "我不想要，太贵。", "用不着，别推销了。"]
LATER = ["我回去跟家里人商量商量。", "等我下个月看看再说。", "先这样，我回头想想。", "过两天你再打来吧。"]


def _training_set():
    calls, labels = [], []
    for group, label in ((YES, "success"), (NO, "refused"), (LATER, "callback")):
        for text in group[:3]:
            calls.append(_call(PITCH, text, "好的，感谢您的接听，再见。"))
            labels.append(label)
    return calls, labels


@pytest.fixture(scope="module")
def small_model():
    calls, labels = _training_set()
    return fit_outcome(calls, labels, ["outbound"] * len(calls))


def test_trained_model_predicts_held_out_obvious_examples(small_model):
    for text, label in ((YES[3], "success"), (NO[3], "refused"), (LATER[3], "callback")):
        got, probability = predict_outcome(small_model, _call(PITCH, text, "好的，感谢您的接听，再见。"), "outbound")
        assert got == label, text
        assert 1 / 3 < probability <= 1.0


def test_trained_model_takes_turn_objects_and_falls_back_to_cues_for_an_unseen_direction(small_model, cues):
    as_dicts = _call(PITCH, NO[3])
    as_turns = [Turn(t["role"], t["text"]) for t in as_dicts]
    assert predict_outcome(small_model, as_turns, "outbound") == predict_outcome(small_model, as_dicts, "outbound")
    inbound = _call("您好。", "我的问题还是没解决，我要投诉。")
    assert predict_outcome(small_model, inbound, "inbound") == predict_outcome(cues, inbound, "inbound")


def test_fit_rejects_a_label_of_the_wrong_direction():
    with pytest.raises(ValueError, match=r"call 1: outcome 'resolved' is not one of the outbound outcomes"):
        fit_outcome([_call(PITCH, YES[0]), _call(PITCH, NO[0])], ["success", "resolved"], ["outbound"] * 2)


def test_save_and_load_give_identical_predictions(small_model, tmp_path):
    path = save_outcome(small_model, tmp_path / "model")
    assert path.name == "outcome.joblib"
    loaded = load_outcome(tmp_path / "model")
    for text in YES + NO + LATER:
        turns = _call(PITCH, text)
        assert predict_outcome(loaded, turns, "outbound") == predict_outcome(small_model, turns, "outbound")


def test_loading_a_folder_without_a_model_names_it(tmp_path):
    from models.store import ModelError

    with pytest.raises(ModelError, match="outcome.joblib"):
        load_outcome(tmp_path)


@pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")
def test_shipped_default_is_at_least_as_accurate_as_the_cues_on_the_corpus(cues):
    """In-sample (the default was trained on this corpus): a check that it loads and is not broken."""
    model = load_outcome(DEFAULT_MODEL)
    turns, labels, directions = outcome_examples(load_corpus(CALLS, load_taxonomy(None)))
    assert len(labels) == 60

    def accuracy(predictor):
        examples = zip(turns, labels, directions, strict=True)
        return sum(predict_outcome(predictor, t, d)[0] == gold for t, gold, d in examples) / len(labels)

    assert accuracy(model) >= accuracy(cues) >= 0.8
