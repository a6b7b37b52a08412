"""Whisper on one utterance at a time, fast enough for live help, and one decoding thread per process.

faster-whisper always encodes a 30 s window; for a 4 s utterance that is most of the time spent.
CTranslate2 encodes shorter inputs, so ``UtteranceDecoder`` gives the encoder the utterance plus
silence up to ``min_window_s`` (10 s): on 186 corpus turns that cost no accuracy (CER 16.9% against
16.6% with the full window; 3-5 s windows lost 4-5 points) at about a quarter of the time. A decode
that looks failed by Whisper's own tests (too repetitive, too unlikely; 4 of 155 turns, all short
ones) is redone with a wider beam on the same window (about 0.2 s; as accurate as the usual 30 s
decode with temperature fallback, which took 2.4-3 s on those turns), and only if that is still
repetitive the usual way.

``DecodeQueue`` runs every decode of the process in one thread, finals before partials, so that
sessions share the model (loaded once) and the cores without slowing each other's finals down.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.transcribe import Transcriber

MAX_FRAMES = 3000  # Whisper's 30 s window, in mel frames


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How an utterance is decoded: beam width, the shortest encoder window, the silence after speech."""

    beam_size: int = 1
    fallback_beam_size: int = 5
    min_window_s: float = 10.0
    pad_s: float = 2.0
    max_new_tokens: int = 200
    tokens_per_s: float = 20.0       # and at most 20 + this per second of audio (a loop stops early)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6


@dataclass(frozen=True, slots=True)
class Decoded:
    """One utterance's text (simplified, lexicon-corrected; empty when it was noise) and confidence."""

    text: str
    confidence: float
    seconds: float = 0.0
    fallback: bool = False


class UtteranceDecoder:
    """Decodes single utterances with the project's Whisper model (``speech.transcribe.Transcriber``)."""

    def __init__(self, transcriber: Transcriber, options: DecodeOptions | None = None):
        self.transcriber = transcriber
        self.options = options or DecodeOptions()
        self._model = None
        self._tokenizer = None

    def load(self) -> None:
        """Load the model now (it is loaded on the first decode otherwise)."""
        from faster_whisper.tokenizer import Tokenizer

        from speech.model import load_whisper

        if self._model is None:
            model = load_whisper(self.transcriber.model)
            self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                                        language=self.transcriber.options.language)
            self._model = model

    def decode(self, samples: np.ndarray) -> Decoded:
        """Text of one utterance (16 kHz float samples)."""
        import time

        started = time.perf_counter()
        self.load()
        o = self.options
        text, avg_logprob, no_speech = self._short(samples, o.beam_size)
        fallback = False
        looping = _compression_ratio(text) > o.compression_ratio_threshold
        if no_speech > o.no_speech_threshold and (avg_logprob < o.log_prob_threshold or looping):
            text = ""  # Whisper's no-speech verdict (a loop on a likely silent window counts too)
        elif self._failed(text, avg_logprob):
            fallback = True
            wider, wider_logprob, _ = self._short(samples, o.fallback_beam_size)
            if _compression_ratio(wider) <= o.compression_ratio_threshold and (
                    wider_logprob >= avg_logprob or _compression_ratio(text) > o.compression_ratio_threshold):
                text, avg_logprob = wider, wider_logprob
            if _compression_ratio(text) > o.compression_ratio_threshold:
                text, avg_logprob = self._full(samples)
        if _one_sound(text):
            text = ""  # 戴戴戴戴戴: a loop too short for the compression test
        clean = self.transcriber.clean(text) if text else ""
        return Decoded(clean, round(float(np.exp(min(avg_logprob, 0.0))), 3), time.perf_counter() - started, fallback)

    def _failed(self, text: str, avg_logprob: float) -> bool:
        """Whisper's tests for a failed decode: too repetitive or too unlikely."""
        return (_compression_ratio(text) > self.options.compression_ratio_threshold
                or avg_logprob < self.options.log_prob_threshold)

    def _short(self, samples: np.ndarray, beam_size: int) -> tuple[str, float, float]:
        """Decode with the encoder window cut to the utterance: (text, avg logprob, no-speech prob)."""
        o = self.options
        seconds = len(samples) / SAMPLE_RATE
        pad = max(o.pad_s, o.min_window_s - seconds)
        audio = np.concatenate([samples.astype(np.float32), np.zeros(int(pad * SAMPLE_RATE), np.float32)])
        features = self._model.feature_extractor(audio)
        frames = min(MAX_FRAMES, features.shape[1] - features.shape[1] % 2)
        encoded = self._model.encode(features[:, :frames])
        tokenizer = self._tokenizer
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        result = self._model.model.generate(
            encoded, [prompt], beam_size=beam_size,
            max_length=len(prompt) + min(o.max_new_tokens, int(20 + o.tokens_per_s * seconds)),
            return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = tokenizer.decode(tokens).replace("\ufffd", "").strip()  # a token cut off mid-character
        return text, float(avg_logprob), float(result.no_speech_prob)

    def _full(self, samples: np.ndarray) -> tuple[str, float]:
        """The usual faster-whisper decode: 30 s window, temperature fallback."""
        segments, _ = self._model.transcribe(
            samples, language=self.transcriber.options.language, beam_size=max(self.options.beam_size, 2),
            without_timestamps=True, vad_filter=False, condition_on_previous_text=False,
        )
        kept = [s for s in segments
                if not (s.no_speech_prob > self.options.no_speech_threshold and s.avg_logprob < -1.0)]
        if not kept:
            return "", -10.0
        return "".join(s.text for s in kept).strip(), float(np.mean([s.avg_logprob for s in kept]))


def _one_sound(text: str) -> bool:
    """A text of four or more characters that is mostly one character repeated."""
    chars = [c for c in text if c.isalnum()]
    return len(chars) >= 4 and max(chars.count(c) for c in set(chars)) >= 0.6 * len(chars)


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


FINAL, PARTIAL = 0, 1


class DecodeQueue:
    """One thread that runs every decode of the process; finals go before partials, and a partial
    whose ``wanted()`` is false by the time its turn comes is skipped."""

    def __init__(self, decoder: UtteranceDecoder):
        self.decoder = decoder
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._run, name="assist-decoder", daemon=True)
        self._thread.start()

    def submit(self, samples: np.ndarray | None, priority: int = FINAL,
               wanted: Callable[[], bool] | None = None) -> asyncio.Future:
        """A future for the ``Decoded`` of ``samples`` (None: only load the model)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._jobs.put((priority, next(self._order), samples, wanted, loop, future))
        return future

    @property
    def busy(self) -> bool:
        """Whether decodes are waiting."""
        return not self._jobs.empty()

    def _run(self) -> None:
        while True:
            _, _, samples, wanted, loop, future = self._jobs.get()
            if future.cancelled() or (wanted is not None and not _safe(wanted)):
                _resolve(loop, future, None)
                continue
            try:
                if samples is None:
                    self.decoder.load()
                    value: Any = None
                else:
                    value = self.decoder.decode(samples)
            except Exception as exc:  # noqa: BLE001 - handed to the session, which reports it
                _resolve(loop, future, exc, error=True)
                continue
            _resolve(loop, future, value)


def _safe(wanted: Callable[[], bool]) -> bool:
    try:
        return bool(wanted())
    except Exception:  # noqa: BLE001 - a broken check means nobody is waiting
        return False


def _resolve(loop: asyncio.AbstractEventLoop, future: asyncio.Future, value: Any, *, error: bool = False) -> None:
    def settle() -> None:
        if future.done():
            return
        if error:
            future.set_exception(value)
        else:
            future.set_result(value)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the session's loop is gone
        pass
