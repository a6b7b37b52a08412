"""Decoding every recorder format we promise, and clear errors for files that are not audio."""

from __future__ import annotations

import pytest

from speech.audio import SAMPLE_RATE, AudioError, load_audio
from tests.audio_factory import FORMATS, read_pcm, resample, write_audio


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("channels", [1, 2])
def test_every_format_decodes_to_16k_channels(short_stereo, tmp_path, fmt, rate, channels):
    samples, source_rate = read_pcm(short_stereo)
    samples = resample(samples, source_rate, rate)
    if channels == 1:
        samples = samples.mean(axis=1, keepdims=True)
    path = write_audio(samples, rate, tmp_path / "call", fmt)
    audio = load_audio(path)
    assert len(audio.channels) == channels
    assert audio.duration == pytest.approx(len(samples) / rate, abs=0.3)
    assert all(len(c) == len(audio.channels[0]) for c in audio.channels)
    assert max(float(abs(c).max()) for c in audio.channels) > 0.1  # real signal, not silence


def test_stereo_channels_stay_apart(short_stereo):
    """In the fixture the agent speaks first on channel 0 while channel 1 is silent."""
    audio = load_audio(short_stereo)
    first_second = slice(int(1.0 * SAMPLE_RATE), int(2.0 * SAMPLE_RATE))
    assert abs(audio.channels[0][first_second]).max() > 0.05
    assert abs(audio.channels[1][first_second]).max() < 0.01


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"this is not audio at all" * 40, "cannot decode"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot decode|no audio"),
    ],
    ids=["empty", "garbage", "truncated-header"],
)
def test_unusable_files_raise_audio_error_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=reason) as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_truncated_mp3_keeps_what_decodes(short_stereo, tmp_path):
    samples, rate = read_pcm(short_stereo)
    path = write_audio(samples, rate, tmp_path / "cut", "mp3")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    audio = load_audio(path)
    assert 4.0 < audio.duration < 12.0


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        load_audio(tmp_path / "nope.mp3")
