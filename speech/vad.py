"""Voice activity detection: where in a channel someone is speaking (Silero VAD, bundled)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from speech.audio import SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class VadOptions:
    """Silero settings tuned for turn-taking: short silences split turns, tiny blips are dropped."""

    threshold: float = 0.5
    min_speech_ms: int = 200
    min_silence_ms: int = 300
    speech_pad_ms: int = 100
    max_speech_s: float = 28.0  # keeps every region inside one 30 s Whisper window

    def to_dict(self) -> dict[str, float]:
        """Plain dict, recorded in the transcript for provenance."""
        return asdict(self)


def speech_regions(samples: np.ndarray, options: VadOptions | None = None) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of each stretch of speech in one channel, in time order."""
    from faster_whisper.vad import VadOptions as SileroOptions
    from faster_whisper.vad import get_speech_timestamps

    options = options or VadOptions()
    if samples.size == 0 or float(np.max(np.abs(samples))) < 1e-4:
        return []  # digitally silent channel: nothing to run the model on
    stamps = get_speech_timestamps(
        samples,
        SileroOptions(
            threshold=options.threshold,
            min_speech_duration_ms=options.min_speech_ms,
            min_silence_duration_ms=options.min_silence_ms,
            speech_pad_ms=options.speech_pad_ms,
            max_speech_duration_s=options.max_speech_s,
        ),
        sampling_rate=SAMPLE_RATE,
    )
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]
