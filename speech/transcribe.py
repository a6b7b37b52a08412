"""Whisper decoding of turns: each turn's audio is decoded on its own, many turns per batch.

Decoding turn by turn (not the whole channel) gives each turn exact times from the VAD and stops
Whisper from running one sentence across two speakers. The turns of both channels go through
faster-whisper's batched pipeline together, so the 2 cores stay busy and silent stretches are
never decoded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.lexicon import Lexicon
from speech.model import ModelSpec, load_whisper
from speech.segments import TurnSlot
from speech.textnorm import to_simplified

MAX_WINDOW_S = 28.0


@dataclass(frozen=True, slots=True)
class AsrOptions:
    """Decoding settings; recorded in every transcript so a result can be traced to them."""

    language: str = "zh"
    beam_size: int = 5
    batch_size: int = 8
    use_prompt: bool = True
    correct_with_lexicon: bool = True
    no_speech_threshold: float = 0.6

    def to_dict(self) -> dict[str, object]:
        """Plain dict for the transcript's provenance block."""
        return asdict(self)


@dataclass(slots=True)
class DecodedTurn:
    """A turn's words as decoded, with Whisper's confidence (probability per token, geometric mean)."""

    slot: TurnSlot
    text: str
    confidence: float


def windows(slot: TurnSlot, max_s: float = MAX_WINDOW_S) -> list[tuple[float, float]]:
    """A turn's clips merged into as few spans of at most ``max_s`` seconds as possible."""
    spans: list[tuple[float, float]] = []
    for start, end in slot.clips:
        if spans and end - spans[-1][0] <= max_s:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


class Transcriber:
    """Decodes turn slots of one recording with a loaded Whisper model."""

    def __init__(self, model: ModelSpec, options: AsrOptions | None = None, lexicon: Lexicon | None = None):
        self.model = model
        self.options = options or AsrOptions()
        self.lexicon = lexicon

    def decode(self, slots: list[TurnSlot], channels: list[np.ndarray]) -> list[DecodedTurn]:
        """Text for every slot; ``slot.speaker`` indexes ``channels`` (one channel for mono)."""
        if not slots:
            return []
        from faster_whisper import BatchedInferencePipeline

        # Lay the channels end to end so one batched call covers the turns of both parties.
        offsets = np.cumsum([0] + [len(c) for c in channels[:-1]]) / SAMPLE_RATE
        audio = np.concatenate(channels) if len(channels) > 1 else channels[0]
        clips, owners = [], []
        for index, slot in enumerate(slots):
            shift = float(offsets[slot.speaker])
            for start, end in windows(slot):
                clips.append({"start": start + shift, "end": end + shift})
                owners.append(index)
        pipeline = BatchedInferencePipeline(load_whisper(self.model))
        segments, _ = pipeline.transcribe(
            audio,
            language=self.options.language,
            beam_size=self.options.beam_size,
            batch_size=self.options.batch_size,
            temperature=0.0,
            initial_prompt=self.lexicon.prompt() if self.lexicon and self.options.use_prompt else None,
            clip_timestamps=clips,
            no_speech_threshold=self.options.no_speech_threshold,
            log_progress=False,
        )
        return self._collect(slots, clips, owners, list(segments))

    def _collect(self, slots, clips, owners, segments) -> list[DecodedTurn]:
        """Join decoded segments back to their turns; clean and correct the text."""
        texts: list[list[str]] = [[] for _ in slots]
        logprobs: list[list[float]] = [[] for _ in slots]
        for segment in segments:
            clip = _clip_of(segment.start, clips)
            if clip is None or _is_noise(segment, self.options.no_speech_threshold):
                continue
            texts[owners[clip]].append(segment.text.strip())
            logprobs[owners[clip]].append(segment.avg_logprob)
        decoded = []
        for slot, parts, lps in zip(slots, texts, logprobs):
            text = self.clean("".join(parts))
            if text:
                decoded.append(DecodedTurn(slot, text, math.exp(float(np.mean(lps)))))
        return decoded

    def clean(self, text: str) -> str:
        """Simplified characters, then lexicon slip correction (when enabled)."""
        text = to_simplified(text).strip()
        if self.lexicon is not None and self.options.correct_with_lexicon:
            text = self.lexicon.correct(text)
        return text


def _clip_of(start: float, clips: list[dict[str, float]]) -> int | None:
    """Index of the clip a segment starting at ``start`` came from (clips are disjoint)."""
    for i, clip in enumerate(clips):
        if clip["start"] - 0.05 <= start < clip["end"]:
            return i
    return None


def _is_noise(segment, no_speech_threshold: float) -> bool:
    """Whisper's own verdict that a clip holds no speech (a cough, line noise, echo)."""
    return segment.no_speech_prob > no_speech_threshold and segment.avg_logprob < -1.0
