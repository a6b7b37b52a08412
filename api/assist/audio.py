"""Streaming audio of one channel cut into utterances: Silero VAD frame by frame, and an utterance
ends after ``endpoint_ms`` of silence.

``Endpointer.feed`` takes the next 16 kHz samples of its channel and returns events: ``started``
(speech has gone on for ``min_speech_ms``), ``paused`` (``tentative_ms`` of silence: the utterance
so far, to decode ahead while waiting for the endpoint; it is the final utterance if ``ended``
follows with the same end), ``ended`` (an utterance with its samples, start and end) or
``dropped`` (too short to be speech). The VAD is the Silero model faster-whisper bundles,
the one ``speech.vad`` runs over whole recordings, fed 32 ms frames with the 64-sample context it
expects, the way faster-whisper batches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from speech.audio import SAMPLE_RATE

FRAME = 512  # Silero's window: 32 ms at 16 kHz
CONTEXT = 64


@dataclass(frozen=True, slots=True)
class EndpointOptions:
    """When speech starts and when an utterance is over."""

    threshold: float = 0.5           # a frame this likely speech is speech
    neg_threshold: float = 0.35      # ... and below this it is silence (in between: keeps the state)
    endpoint_ms: int = 480           # silence that ends an utterance
    tentative_ms: int = 240          # silence after which the utterance is decoded ahead, in case it ended
    min_speech_ms: int = 200         # shorter bursts are dropped (a click, a breath)
    pre_pad_ms: int = 200            # audio kept before the first speech frame
    post_pad_ms: int = 150           # and after the last one, for the decoder
    max_utterance_s: float = 25.0    # longer speech is cut here (Whisper reads 30 s at most)


class PcmBuffer:
    """A channel's audio as it arrives (float32, growing), readable by sample range."""

    def __init__(self) -> None:
        self._data = np.zeros(SAMPLE_RATE * 30, dtype=np.float32)
        self.length = 0

    def append(self, samples: np.ndarray) -> None:
        """Add samples at the end."""
        need = self.length + len(samples)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=np.float32)
            grown[: self.length] = self._data[: self.length]
            self._data = grown
        self._data[self.length: need] = samples
        self.length = need

    def slice(self, start: int, end: int) -> np.ndarray:
        """A copy of samples ``start:end`` (clipped to what has arrived)."""
        return self._data[max(0, start): max(0, min(end, self.length))].copy()

    def all(self) -> np.ndarray:
        """Everything so far (a view)."""
        return self._data[: self.length]


class SileroStream:
    """Speech probability of each successive 32 ms frame of one channel."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._state = np.zeros((1, 1, 128), dtype=np.float32)

    def probs(self, frames: np.ndarray) -> np.ndarray:
        """Probabilities of ``frames`` (a multiple of 512 samples), continuing from the last call."""
        batch = frames.reshape(-1, FRAME)
        before = np.concatenate([self._context[None, :], batch[:-1, -CONTEXT:]], axis=0)
        out, _, _ = self._session.run(None, {"input": np.concatenate([before, batch], axis=1),
                                             "h": self._state, "c": self._state})
        self._context = batch[-1, -CONTEXT:].copy()
        return np.asarray(out, dtype=np.float32).reshape(-1)


@dataclass(slots=True)
class Event:
    """What the endpointer saw: ``started``, ``ended`` (with samples) or ``dropped``."""

    kind: str
    utterance: int
    start: float
    end: float | None = None
    samples: np.ndarray | None = field(default=None, repr=False)


class Endpointer:
    """Utterances of one channel from its streamed samples."""

    def __init__(self, options: EndpointOptions | None = None, first_utterance: int = 0):
        self.options = options or EndpointOptions()
        self.audio = PcmBuffer()
        self._vad = SileroStream()
        self._pending = np.zeros(0, dtype=np.float32)
        self._frame = 0                   # frames judged so far
        self._speaking = False
        self._announced = False
        self._paused = False
        self._first: int = 0              # first speech frame of the current utterance
        self._last: int = 0               # last speech frame
        self.utterance = first_utterance  # id of the current (or next) utterance

    @property
    def speaking(self) -> bool:
        """Whether an utterance is going on."""
        return self._speaking

    def feed(self, samples: np.ndarray) -> list[Event]:
        """Take the next samples; events for what they completed."""
        self.audio.append(samples)
        self._pending = np.concatenate([self._pending, samples]) if self._pending.size else samples
        whole = len(self._pending) // FRAME * FRAME
        if whole == 0:
            return []
        frames, self._pending = self._pending[:whole], self._pending[whole:].copy()
        events: list[Event] = []
        for prob in self._vad.probs(frames):
            events += self._step(float(prob))
            self._frame += 1
        return events

    def flush(self) -> list[Event]:
        """End the utterance going on, if any (the call is over)."""
        if not self._speaking:
            return []
        return self._close()

    def current(self) -> np.ndarray:
        """The samples of the utterance going on so far (for partial transcripts)."""
        o = self.options
        return self.audio.slice(self._sample(self._first) - _ms(o.pre_pad_ms), self.audio.length)

    def _step(self, prob: float) -> list[Event]:
        o = self.options
        i = self._frame
        if not self._speaking:
            if prob >= o.threshold:
                self._speaking, self._announced, self._first, self._last = True, False, i, i
            return []
        if prob >= o.threshold:
            self._last, self._paused = i, False
        events = []
        if not self._announced and (self._last - self._first + 1) * FRAME >= _ms(o.min_speech_ms):
            self._announced = True
            events.append(Event("started", self.utterance, self._seconds(self._first)))
        silence = (i - self._last) * FRAME
        if prob < o.neg_threshold and silence >= _ms(o.endpoint_ms):
            events += self._close()
        elif self._announced and not self._paused and prob < o.neg_threshold and silence >= _ms(o.tentative_ms):
            self._paused = True
            start, end = self._sample(self._first), self._sample(self._last + 1)
            events.append(Event("paused", self.utterance, start / SAMPLE_RATE, end / SAMPLE_RATE,
                                self.audio.slice(start - _ms(o.pre_pad_ms), end + _ms(o.post_pad_ms))))
        elif (i - self._first + 1) * FRAME >= o.max_utterance_s * SAMPLE_RATE:
            events += self._close()
            self._speaking, self._announced, self._first, self._last = True, False, i + 1, i + 1
        return events

    @property
    def silent_ms(self) -> float:
        """Silence since the last speech frame of the utterance going on (0 when none goes on)."""
        return (self._frame - 1 - self._last) * FRAME * 1000 / SAMPLE_RATE if self._speaking else 0.0

    def _close(self) -> list[Event]:
        o = self.options
        self._speaking, self._paused = False, False
        start, end = self._sample(self._first), self._sample(self._last + 1)
        utterance = self.utterance
        self.utterance += 1
        if (self._last - self._first + 1) * FRAME < _ms(o.min_speech_ms):
            return [Event("dropped", utterance, start / SAMPLE_RATE, end / SAMPLE_RATE)] if self._announced else []
        samples = self.audio.slice(start - _ms(o.pre_pad_ms), end + _ms(o.post_pad_ms))
        return [Event("ended", utterance, start / SAMPLE_RATE, end / SAMPLE_RATE, samples)]

    def _sample(self, frame: int) -> int:
        return frame * FRAME

    def _seconds(self, frame: int) -> float:
        return frame * FRAME / SAMPLE_RATE


def _ms(ms: float) -> int:
    return int(ms * SAMPLE_RATE / 1000)


def pcm16_to_float(payload: bytes) -> np.ndarray:
    """16-bit little-endian PCM as float32 in [-1, 1)."""
    return np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
