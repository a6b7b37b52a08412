"""Window bookkeeping of the transcriber: which window a segment came from, decoding loops cut out."""

import numpy as np
import pytest

from speech.segments import TurnSlot
from speech.transcribe import (
    Piece,
    Window,
    _window_at,
    _without_loop,
    loop_start,
    padded_slots,
    stutter,
    warped,
)


def _window(start: float, *pieces: tuple[int, float, float]) -> Window:
    """A window whose pieces sit end to end from ``start`` in the buffer (slot, start, end)."""
    window, at = Window(start), start
    for slot, a, b in pieces:
        window.pieces.append(Piece(slot, at, a, b))
        at += (b - a) + 0.3
    return window


def test_segment_starting_late_in_its_window_stays_in_that_window():
    # Whisper skipped the first 15 s of the middle window: its segment starts at 71.0, nearer the
    # next window's start (76.7) than its own (55.4), and must still count as the middle window's.
    windows = [
        _window(0.0, (0, 0.3, 27.0)),
        _window(55.4, (10, 85.9, 93.1), (12, 100.6, 114.0)),
        _window(76.7, (14, 116.5, 125.4)),
    ]
    assert _window_at(71.0, windows) is windows[1]
    assert _window_at(76.5, windows) is windows[2]  # the batched pipeline may report a start a little early
    assert _window_at(0.0, windows) is windows[0]


def test_loop_start_finds_repeated_runs_of_one_to_four_words():
    assert loop_start(["邮箱", "是", "2", "3"] + ["2", "3"] * 6) == 2
    assert loop_start(["你好"] * 8) == 0
    assert loop_start(["对", "对", "对", "好的"]) is None  # a customer's 对对对 is speech, not a loop
    assert loop_start(["一", "二", "三", "四", "五", "六", "七", "八"]) is None


def test_a_loop_removes_every_word_of_the_pieces_it_ran_through():
    window = _window(0.0, (0, 0.0, 4.0), (1, 10.0, 14.0))  # piece 1 sits at 4.3-8.3 in the buffer
    words = [("您好", 1.0, 0.9), ("请讲", 2.0, 0.9), ("1", 4.5, 0.5)] + [
        ("2,", 5.0 + i / 10, 0.4) for i in range(10)
    ]
    kept = _without_loop(words, window)
    assert kept == words[:2]  # piece 0 keeps its words; piece 1 loses all, so the second pass retries it
    clean = words[:3]
    assert _without_loop(clean, window) == clean


def test_clips_widen_for_decoding_but_stop_half_way_to_the_next_clip_on_the_same_signal():
    agent, customer = np.zeros(16000 * 10, np.float32), np.ones(16000 * 10, np.float32)
    slots = [TurnSlot(0, [(1.0, 2.0), (2.2, 3.0)]), TurnSlot(1, [(3.1, 4.0)]), TurnSlot(0, [(9.95, 10.0)])]
    stereo = padded_slots(slots, 0.15, [agent, customer])
    assert _flat(stereo[0].clips) == pytest.approx([0.85, 2.1, 2.1, 3.15])  # the 0.2 s gap is shared, not crossed
    assert _flat(stereo[1].clips) == pytest.approx([2.95, 4.15])  # another channel's clip is no limit
    assert _flat(stereo[2].clips) == pytest.approx([9.8, 10.0])  # nor past the end of the recording
    mono = padded_slots(slots, 0.15, [agent, agent])  # one signal: the other speaker's clips limit too
    assert _flat(mono[0].clips[1:]) == pytest.approx([2.1, 3.05])
    assert _flat(mono[1].clips) == pytest.approx([3.05, 4.15])
    assert slots[0].clips == [(1.0, 2.0), (2.2, 3.0)]  # the turns themselves keep their times
    assert padded_slots(slots, 0.0, [agent, customer]) is slots


def _flat(clips: list[tuple[float, float]]) -> list[float]:
    return [t for clip in clips for t in clip]


def test_warping_plays_faster_and_raises_pitch_by_the_factor():
    rate = 16000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 200.0 * t).astype(np.float32)
    played = warped(tone, 1.25)
    assert len(played) == pytest.approx(len(tone) / 1.25, abs=2)
    peak = np.argmax(np.abs(np.fft.rfft(played))) * rate / len(played)
    assert peak == pytest.approx(250.0, abs=2.0)
    assert warped(tone, 1.0) is tone


def test_a_looping_or_failed_reading_may_not_replace_another():
    from speech.transcribe import Reading

    words = [(w, 0.1 * i, 0.9) for i, w in enumerate(["你好", "请问", "有", "什么", "可以", "帮", "您"])]
    assert Reading(words, log_prob_sum=-0.3, tokens=1).clean
    dashes = words + [("-", 2.0 + 0.1 * i, 0.9) for i in range(12)]
    assert not Reading(dashes, log_prob_sum=-0.1, tokens=1).clean
    assert not Reading(words, log_prob_sum=-0.1, tokens=1, degenerate=True).clean
    assert not Reading(words, log_prob_sum=-0.1, tokens=1, noise=True).clean


def test_stutter_counts_runs_of_three_or_more_of_one_character_but_not_digits():
    assert stutter([("副作作作副副", 0.0, 0.0), ("诺诺诺", 0.5, 0.9)]) == 6
    assert stutter([("对对", 0.0, 0.0), ("对。", 0.1, 0.2)]) == 3  # runs cross word boundaries, punctuation aside
    assert stutter([("好的，", 0.0, 0.0), ("没问题", 0.1, 0.2)]) == 0
    assert stutter([("尾号8888", 0.0, 0.0)]) == 0  # a card number is not a stutter
