"""Acoustic features against calls whose silences and overlaps were constructed on purpose."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.types import Turn
from speech.audio import SAMPLE_RATE, load_audio
from speech.features import agitation, measure, median_pitch
from speech.segments import Region
from speech.vad import speech_regions
from tests.conftest import reference_turns

ROLES = {0: "agent", 1: "customer"}


def test_constructed_regions_give_exact_silence_overlap_and_talk_time():
    regions = [Region(0, 0.0, 4.0), Region(1, 3.5, 6.0), Region(0, 10.0, 12.0), Region(1, 12.5, 13.0)]
    turns = [Turn("agent", "你好你好", 0.0, 4.0), Turn("customer", "喂", 3.5, 6.0)]
    acoustics = measure(regions, ROLES, turns)
    assert acoustics.talk_s == {"agent": pytest.approx(6.0), "customer": pytest.approx(3.0)}
    assert [(s.start, s.end) for s in acoustics.silences] == [(6.0, 10.0)]  # 0.5 s gap is turn-taking
    assert acoustics.silence_s == pytest.approx(4.0)
    [overlap] = acoustics.overlaps
    assert (overlap.start, overlap.end, overlap.who, overlap.over) == (3.5, 4.0, "customer", "agent")
    assert acoustics.speech_rate_cpm["agent"] == pytest.approx(4 / (6.0 / 60))


def test_fixture_dead_air_and_overtalk_are_found_where_they_were_made(timing_call):
    """Turn 3 follows 12 s of dead air; turn 5 (customer) starts 1.2 s before turn 4 ends."""
    truth = reference_turns(timing_call)
    audio = load_audio(timing_call)
    regions = [Region(c, s, e) for c in (0, 1) for s, e in speech_regions(audio.channels[c])]
    turns = [Turn(t["role"], t["text"], t["start"], t["end"]) for t in truth]
    acoustics = measure(regions, ROLES, turns)

    [silence] = acoustics.silences
    assert silence.start == pytest.approx(truth[2]["end"], abs=0.35)
    assert silence.end == pytest.approx(truth[3]["start"], abs=0.35)
    assert silence.duration == pytest.approx(12.0, abs=0.5)

    [overlap] = acoustics.overlaps
    assert overlap.who == "customer" and overlap.over == "agent"
    assert overlap.start == pytest.approx(truth[5]["start"], abs=0.35)
    assert overlap.duration == pytest.approx(1.2, abs=0.4)

    for role in ("agent", "customer"):
        true_talk = sum(t["end"] - t["start"] for t in truth if t["role"] == role)
        assert acoustics.talk_s[role] == pytest.approx(true_talk, rel=0.15)


def test_median_pitch_of_a_tone():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    assert median_pitch(0.3 * np.sin(2 * np.pi * 150 * t)) == pytest.approx(150, rel=0.03)
    assert np.isnan(median_pitch(np.zeros(SAMPLE_RATE)))


def test_agitation_is_relative_to_the_speakers_own_baseline(timing_call):
    """Make one customer turn 4x louder: it, and no other turn, should stand out."""
    truth = reference_turns(timing_call)
    audio = load_audio(timing_call)
    channels = [c.copy() for c in audio.channels]
    loud = 3  # a customer turn
    a, b = int(truth[loud]["start"] * SAMPLE_RATE), int(truth[loud]["end"] * SAMPLE_RATE)
    channels[1][a:b] *= 4.0
    turns = [Turn(t["role"], t["text"], t["start"], t["end"]) for t in truth]
    agitation(turns, channels, {"agent": 0, "customer": 1})
    customer = [t for t in turns if t.role == "customer"]
    assert max(customer, key=lambda t: t.agitation).start == truth[loud]["start"]
    assert turns[loud].agitation >= 1.0
    assert all(abs(t.agitation) < 5.01 for t in turns)
