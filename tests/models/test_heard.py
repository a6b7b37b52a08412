"""Our own transcripts as training data: labels move onto our turns by time, and count half."""

from __future__ import annotations

import json

import pytest

from callscope.types import Conversation
from models.corpus import load_corpus
from models.heard import HEARD_WEIGHT, heard_labels, training_set
from nlp.taxonomy import load_taxonomy
from nlp.text import call_text
from tests.conftest import SHARED

CALLS = SHARED / "corpus" / "calls"
pytestmark = pytest.mark.skipif(not CALLS.is_dir(), reason=f"labelled corpus not found at {CALLS}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for name in ("fin-in-0001", "tel-in-0004", "out-0007"):
        (folder / f"{name}.json").write_text((CALLS / f"{name}.json").read_text(encoding="utf-8"), encoding="utf-8")
    return load_corpus(folder, load_taxonomy())


def _heard(call, *, split_first_agent_turn=True, times=True):
    """Our transcript of a call: the first agent turn cut in two halves, as our VAD may do."""
    turns = []
    for turn in call.conversation.turns:
        row = {"role": turn.role, "text": turn.text, "start": turn.start, "end": turn.end}
        if not times:
            row.pop("start"), row.pop("end")
        if split_first_agent_turn and turn.role == "agent" and not any(t["role"] == "agent" for t in turns):
            middle = (turn.start + turn.end) / 2
            turns += [{**row, "end": middle - 0.05}, {**row, "start": middle + 0.05}]
        else:
            turns.append(row)
    data = {**{k: v for k, v in json.loads(call.path.read_text(encoding="utf-8")).items() if k != "labels"},
            "turns": turns}
    return call_text(Conversation.from_dict(data))


def test_script_points_follow_the_labelled_turn_each_of_ours_overlaps(corpus):
    call = corpus[0]
    gold = {p["turn"]: p["point"] for p in call.labels["script_points"]}
    first_agent = next(i for i, t in enumerate(call.conversation.turns) if t.role == "agent")
    moved = {p["turn"]: p["point"] for p in heard_labels(_heard(call), call)["script_points"]}
    # both halves of the split first agent turn carry its point; every later turn shifts by one
    assert moved[first_agent] == moved[first_agent + 1] == gold[first_agent]
    for turn, point in gold.items():
        if turn > first_agent:
            assert moved[turn + 1] == point
    assert heard_labels(_heard(call), call)["reasons"] == call.labels["reasons"]


def test_without_times_no_point_is_guessed(corpus):
    call = corpus[1]
    labels = heard_labels(_heard(call, split_first_agent_turn=False, times=False), call)
    assert labels["script_points"] == [] and labels["reasons"] == call.labels["reasons"]


def test_training_set_adds_our_transcripts_of_the_chosen_calls_at_lower_weight(corpus):
    texts = [call_text(c.conversation) for c in corpus]
    heard = {corpus[0].conversation.call_id: _heard(corpus[0]), corpus[2].conversation.call_id: _heard(corpus[2])}
    out_texts, out_labels, weights = training_set(corpus, texts, heard, [0, 1])
    assert out_texts[:2] == texts[:2] and out_texts[2] is heard[corpus[0].conversation.call_id]
    assert weights == [1.0, 1.0, HEARD_WEIGHT]      # call 2 was not chosen, call 1 was never heard
    assert len(out_labels) == 3 and out_labels[2]["reasons"] == corpus[0].labels["reasons"]
    assert training_set(corpus, texts, {})[2] == [1.0, 1.0, 1.0]
