"""Script-point smoothing by the learnt order of steps (models/sequence.py)."""

from __future__ import annotations

import numpy as np

from models.sequence import smooth, transition_log_probs

LABELS = ["greeting", "identity_check", "solution", "closing"]
CALLS = [["greeting", "identity_check", "solution", "closing"]] * 5 + [["greeting", "solution", "closing"]]


def test_transitions_are_probabilities_that_follow_the_calls():
    moves = np.exp(transition_log_probs(CALLS, LABELS))
    assert moves.shape == (len(LABELS) + 1, len(LABELS))
    assert np.allclose(moves.sum(axis=1), 1.0)
    start, greeting = moves[-1], moves[LABELS.index("greeting")]
    assert start.argmax() == LABELS.index("greeting")
    assert greeting[LABELS.index("identity_check")] > greeting[LABELS.index("solution")] > greeting[LABELS.index("closing")]
    assert (moves > 0).all()  # an order never seen is unlikely, not impossible


def test_an_undecided_turn_takes_the_step_its_neighbours_imply():
    moves = transition_log_probs(CALLS, LABELS)
    probs = np.array([[0.97, 0.01, 0.01, 0.01],
                      [0.02, 0.45, 0.51, 0.02],     # the text alone leans to solution
                      [0.01, 0.01, 0.97, 0.01]])
    out = smooth(probs, moves, weight=1.0)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert out[1].argmax() == LABELS.index("identity_check")
    assert out[0].argmax() == 0 and out[2].argmax() == 2   # confident turns keep their step


def test_weight_zero_leaves_the_text_in_charge_and_no_turns_is_fine():
    moves = transition_log_probs(CALLS, LABELS)
    probs = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    assert np.allclose(smooth(probs, moves, weight=0.0), probs)
    assert smooth(np.zeros((0, 4)), moves).shape == (0, 4)
