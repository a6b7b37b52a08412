"""Whisper decoding of turns in context windows, words mapped back to turns by their times.

Each party's speech clips are packed, in time order, into windows holding up to 28 s of that
party's speech only: the clips are laid end to end with a short pause between them, the way
faster-whisper's own VAD filter does, so silence and the other party are never decoded. A window
gives Whisper the context of several turns, which it needs (decoded one short turn at a time it
makes markedly more mistakes). Word timestamps put every word back into the turn it was spoken in.
All windows of a call go through faster-whisper's batched pipeline together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.lexicon import Lexicon
from speech.model import ModelSpec, load_whisper
from speech.segments import TurnSlot
from speech.textnorm import to_simplified

MAX_WINDOW_S = 28.0
PAUSE_S = 0.3  # silence put between two clips inside a window


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
    """A turn's words as decoded, with Whisper's confidence (geometric mean word probability)."""

    slot: TurnSlot
    text: str
    confidence: float


@dataclass(slots=True)
class Piece:
    """One clip placed in the decoding buffer: where it sits there, and which turn it belongs to."""

    slot: int
    at: float  # start in the buffer (s)
    start: float  # start in the recording (s)
    end: float


@dataclass(slots=True)
class Window:
    """A stretch of the buffer (at most ``MAX_WINDOW_S``) decoded as one Whisper input."""

    start: float
    pieces: list[Piece] = field(default_factory=list)

    @property
    def end(self) -> float:
        """End of the last piece in the buffer."""
        last = self.pieces[-1]
        return last.at + (last.end - last.start)


def plan_windows(slots: list[TurnSlot], max_s: float = MAX_WINDOW_S) -> list[Window]:
    """Lay every speaker's clips end to end in a buffer, cut into windows of at most ``max_s``."""
    windows: list[Window] = []
    cursor = 0.0
    for speaker in sorted({s.speaker for s in slots}):
        clips = sorted(
            ((i, a, b) for i, s in enumerate(slots) if s.speaker == speaker for a, b in s.clips),
            key=lambda c: c[1],
        )
        current: Window | None = None
        for index, start, end in clips:
            if current is None or cursor + (end - start) - current.start > max_s:
                current = Window(cursor)
                windows.append(current)
            current.pieces.append(Piece(index, cursor, start, end))
            cursor += (end - start) + PAUSE_S
    return windows


def build_buffer(windows: list[Window], slots: list[TurnSlot], channels: list[np.ndarray]) -> np.ndarray:
    """The decoding buffer: each piece's samples copied from its speaker's channel, zeros between."""
    total = max((w.end for w in windows), default=0.0) + PAUSE_S
    buffer = np.zeros(int(total * SAMPLE_RATE) + 1, dtype=np.float32)
    for window in windows:
        for piece in window.pieces:
            source = channels[slots[piece.slot].speaker]
            a, b = int(piece.start * SAMPLE_RATE), int(piece.end * SAMPLE_RATE)
            at = int(piece.at * SAMPLE_RATE)
            chunk = source[a:b]
            buffer[at : at + len(chunk)] = chunk
    return buffer


class Transcriber:
    """Decodes the turn slots of one recording with a loaded Whisper model."""

    def __init__(self, model: ModelSpec, options: AsrOptions | None = None, lexicon: Lexicon | None = None):
        self.model = model
        self.options = options or AsrOptions()
        self.lexicon = lexicon

    def decode(self, slots: list[TurnSlot], channels: list[np.ndarray]) -> list[DecodedTurn]:
        """Text for every slot; ``slot.speaker`` indexes ``channels`` (mono: the same signal twice)."""
        if not slots:
            return []
        from faster_whisper import BatchedInferencePipeline

        windows = plan_windows(slots)
        pipeline = BatchedInferencePipeline(load_whisper(self.model))
        segments, _ = pipeline.transcribe(
            build_buffer(windows, slots, channels),
            language=self.options.language,
            beam_size=self.options.beam_size,
            batch_size=self.options.batch_size,
            temperature=0.0,
            initial_prompt=self.lexicon.prompt() if self.lexicon and self.options.use_prompt else None,
            clip_timestamps=[{"start": w.start, "end": w.end} for w in windows],
            without_timestamps=True,
            word_timestamps=True,
            log_progress=False,
        )
        words: list[list[tuple[str, float]]] = [[] for _ in slots]
        for segment in segments:
            if _is_noise(segment, self.options.no_speech_threshold):
                continue
            for word in segment.words or []:
                slot = _slot_at((word.start + word.end) / 2, windows)
                if slot is not None:
                    words[slot].append((word.word, word.probability))
        return self._join(slots, words)

    def _join(self, slots: list[TurnSlot], words: list[list[tuple[str, float]]]) -> list[DecodedTurn]:
        """One ``DecodedTurn`` per slot that got words: cleaned text, geometric-mean confidence."""
        decoded = []
        for slot, pieces in zip(slots, words):
            text = self.clean("".join(w for w, _ in pieces))
            if text:
                probs = np.clip([p for _, p in pieces], 1e-6, 1.0)
                decoded.append(DecodedTurn(slot, text, float(np.exp(np.mean(np.log(probs))))))
        return decoded

    def clean(self, text: str) -> str:
        """Simplified characters, then lexicon slip correction (when enabled)."""
        text = to_simplified(text).strip()
        if self.lexicon is not None and self.options.correct_with_lexicon:
            text = self.lexicon.correct(text)
        return text


def _slot_at(t: float, windows: list[Window]) -> int | None:
    """The turn whose piece holds buffer time ``t`` (a word in a pause goes to the nearer piece)."""
    for window in windows:
        if window.start - PAUSE_S <= t <= window.end + PAUSE_S:
            def distance(p: Piece) -> float:
                return max(p.at - t, 0.0, t - (p.at + p.end - p.start))

            return min(window.pieces, key=distance).slot
    return None


def _is_noise(segment, no_speech_threshold: float) -> bool:
    """Whisper's own verdict that a window holds no speech (a cough, line noise, echo)."""
    return segment.no_speech_prob > no_speech_threshold and segment.avg_logprob < -1.0
