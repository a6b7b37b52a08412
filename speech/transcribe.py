"""Whisper decoding of turns in context windows, words mapped back to turns by their times.

Each party's speech clips are packed, in time order, into windows holding up to 28 s of that
party's speech only: the clips are laid end to end with a short pause between them, the way
faster-whisper's own VAD filter does, so silence and the other party are never decoded. A window
gives Whisper the context of several turns, which it needs (decoded one short turn at a time it
makes markedly more mistakes). Word timestamps put every word back into the turn it was spoken in.
All windows of a call go through faster-whisper's batched pipeline together.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import ctranslate2
import numpy as np

from speech.audio import SAMPLE_RATE
from speech.homophones import HomophoneCorrector, describe, load_corrector
from speech.lexicon import Lexicon
from speech.model import ModelSpec, load_whisper
from speech.segments import TurnSlot
from speech.textnorm import to_simplified, word_chars

MAX_WINDOW_S = 28.0
PAUSE_S = 0.3  # silence put between two clips inside a window


REDECODE_SEED = 0  # seed of the temperature fallback's sampling (``_redecode``)
WARP = 1.2  # the vocal-tract warp of ``callscope transcribe --warp`` (see AsrOptions.warps)


@dataclass(frozen=True, slots=True)
class AsrOptions:
    """Decoding settings; recorded in every transcript so a result can be traced to them."""

    language: str = "zh"
    beam_size: int = 5
    batch_size: int = 8
    # Whisper prompt built from the lexicon (a sentence + hot-words), in characters; 0 = none.
    # Off by default: on 12 shared calls the prompt cost the customer side 1.3 points of CER
    # (15.2% vs 13.9%) for 0.1 on the agent side; the lexicon still corrects slips after decoding.
    prompt_chars: int = 0
    correct_with_lexicon: bool = True
    # General sound-alike correction after the lexicon's (speech.homophones): 依下 -> 一下, 合对 -> 核对,
    # 吃卡人 -> 持卡人. On by default: on the 60 shared calls CER fell 12.04 -> 11.24 % (agent),
    # 14.17 -> 13.67 % (customer).
    correct_homophones: bool = True
    no_speech_threshold: float = 0.6
    # Seconds each VAD clip is widened by for decoding (turn times stay as VAD found them): on 20
    # shared calls agent CER 9.96 -> 9.48 % at 0.15 s, but 9.83 % at 0.3 s.
    decode_pad_s: float = 0.15
    # Vocal-tract warps tried on windows Whisper is unsure of (avg log-probability below
    # ``warp_below_logprob``): the window is played faster by the factor, which raises pitch and
    # formants like the warp of vocal-tract length normalisation, and the reading Whisper is more
    # sure of is kept unless it failed or loops. Chosen on 20 of the shared calls (customer CER
    # 13.50 -> 11.82 %; 1.25: 12.04 %; 1.2 on every window: 12.30 %). On all 60 (make bench):
    # customer 13.4 -> 12.3 %, agent 9.5 -> 9.6 %, real read speech 17.4 -> 16.5 %, at 8.8x real
    # time instead of 13.6x. Off by default (``callscope transcribe --warp``): on a slower 2-core
    # machine it took 12 calls from 8.7x to 6.3x real time, under the 8x a site needs.
    warps: tuple[float, ...] = ()
    warp_below_logprob: float = -0.2

    def to_dict(self) -> dict[str, object]:
        """Plain dict for the transcript's provenance block."""
        return asdict(self)


@dataclass(slots=True)
class Reading:
    """What Whisper made of one window: its words (buffer times) and how sure it was."""

    words: list[tuple[str, float, float]]
    log_prob_sum: float = 0.0  # the segments' avg_logprob, each times its token count
    tokens: int = 0
    noise: bool = False
    degenerate: bool = False

    @property
    def log_prob(self) -> float:
        """Token-weighted mean of the segments' avg_logprob."""
        return self.log_prob_sum / max(self.tokens, 1)

    @property
    def clean(self) -> bool:
        """Speech, decoded without failing or looping: fit to replace another reading. A loop
        reads with high confidence, so the log-probability alone would prefer it."""
        return not (self.noise or self.degenerate) and loop_start(_loop_keys(self.words)) is None


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


def padded_slots(slots: list[TurnSlot], pad: float, channels: list[np.ndarray]) -> list[TurnSlot]:
    """Copies of the slots with every clip widened by up to ``pad`` seconds, for decoding only.

    VAD cuts a clip tight, and Whisper then often mishears its last syllable. A clip grows into
    the silence around it, but never past half-way to the next clip read from the same signal
    (in a mono call, the other speaker's clips too), so no one else's words come in. Clips read
    the same signal when their speakers index the same array: a mono call passes one array twice.
    """
    if pad <= 0:
        return slots
    by_signal: dict[int, list[tuple[float, float]]] = {}
    for slot in slots:
        by_signal.setdefault(id(channels[slot.speaker]), []).extend(slot.clips)
    bounds: dict[tuple[int, float, float], tuple[float, float]] = {}
    for signal, clips in by_signal.items():
        clips.sort()
        length = next(len(c) for c in channels if id(c) == signal) / SAMPLE_RATE
        for k, (a, b) in enumerate(clips):
            lo = max(0.0, a - pad, (clips[k - 1][1] + a) / 2 if k else 0.0)
            hi = min(length, b + pad, (b + clips[k + 1][0]) / 2 if k + 1 < len(clips) else length)
            bounds[(signal, a, b)] = (lo, max(hi, b))
    return [
        TurnSlot(s.speaker, [bounds[(id(channels[s.speaker]), a, b)] for a, b in s.clips]) for s in slots
    ]


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
        self._homophones: HomophoneCorrector | None = None

    def decode(self, slots: list[TurnSlot], channels: list[np.ndarray]) -> list[DecodedTurn]:
        """Text for every slot; ``slot.speaker`` indexes ``channels`` (mono: the same signal twice)."""
        if not slots:
            return []
        padded = padded_slots(slots, self.options.decode_pad_s, channels)
        windows = plan_windows(padded)
        buffer = build_buffer(windows, padded, channels)
        words: list[list[tuple[float, str, float]]] = [[] for _ in slots]
        heard: set[int] = set()  # ids of pieces that got at least one word
        pending = windows
        for _ in range(2):  # a second pass retries the pieces the first pass left without words
            for window, found in self._decode_windows(buffer, pending):
                for text, middle, probability in found:
                    piece = _piece_at(middle, window)
                    words[piece.slot].append((middle, text, probability))
                    heard.add(id(piece))
            pending = _unheard(pending, heard)
            if not pending:
                break
        return self._join(slots, words)

    def _decode_windows(self, buffer: np.ndarray, windows: list[Window]):
        """Yield (window, words) for each window: one batched pass, warped retries of the windows
        Whisper is unsure of, fallback for failed decodes."""
        readings = self._readings(buffer, windows)
        for warp in self.options.warps:
            unsure = [
                w for w in windows
                if (r := readings.get(id(w))) and not r.noise and r.log_prob < self.options.warp_below_logprob
            ]
            for key, other in self._readings(buffer, unsure, warp).items():
                mine = readings[key]
                if other.log_prob > mine.log_prob and other.clean and stutter(other.words) <= stutter(mine.words):
                    readings[key] = other
        for window in windows:
            reading = readings.get(id(window))
            if reading is None or reading.noise:
                continue
            found = self._redecode(buffer, window) if reading.degenerate else reading.words
            yield window, _without_loop(found, window)

    def _readings(self, buffer: np.ndarray, windows: list[Window], warp: float = 1.0) -> dict[int, Reading]:
        """Whisper's reading of each window (by ``id``), from one batched pass over the buffer
        played ``warp`` times faster; word times are given back in the unwarped buffer's time."""
        from faster_whisper import BatchedInferencePipeline

        if not windows:
            return {}
        played = warped(buffer, warp)
        pipeline = BatchedInferencePipeline(load_whisper(self.model))
        segments, _ = pipeline.transcribe(
            played,
            clip_timestamps=[{"start": w.start / warp, "end": w.end / warp} for w in windows],
            batch_size=self.options.batch_size,
            temperature=0.0,
            **self._decoding(),
        )
        readings: dict[int, Reading] = {}
        for segment in segments:
            window = _window_at(segment.start * warp, windows)
            if window is None:
                continue
            reading = readings.setdefault(id(window), Reading([]))
            reading.words.extend((text, middle * warp, p) for text, middle, p in _words(segment))
            reading.log_prob_sum += segment.avg_logprob * len(segment.tokens)
            reading.tokens += len(segment.tokens)
            reading.noise = reading.noise or _is_noise(segment, self.options.no_speech_threshold)
            reading.degenerate = reading.degenerate or _is_degenerate(segment)
        return readings

    def _decoding(self) -> dict[str, object]:
        """Options shared by the batched pass and the fallback pass."""
        return {
            "language": self.options.language,
            "beam_size": self.options.beam_size,
            "initial_prompt": (
                self.lexicon.prompt(self.options.prompt_chars) if self.lexicon and self.options.prompt_chars else None
            ),
            "without_timestamps": True,
            "word_timestamps": True,
        }

    def _redecode(self, buffer: np.ndarray, window: Window) -> list[tuple[str, float, float]]:
        """Decode one window again with Whisper's temperature fallback (the batched pass has none).

        Greedy decoding sometimes falls into a loop (你好,你好,你好...); Whisper's remedy is to retry
        at rising temperatures until the output is no longer repetitive.
        """
        a, b = int(window.start * SAMPLE_RATE), int(window.end * SAMPLE_RATE)
        # the fallback samples: seeded, the same recording gives the same transcript on every run
        ctranslate2.set_random_seed(REDECODE_SEED)
        segments, _ = load_whisper(self.model).transcribe(
            buffer[a:b], condition_on_previous_text=False, vad_filter=False, **self._decoding()
        )
        return [(text, middle + window.start, p) for s in segments for text, middle, p in _words(s)]

    def _join(self, slots: list[TurnSlot], words: list[list[tuple[float, str, float]]]) -> list[DecodedTurn]:
        """One ``DecodedTurn`` per slot that got words (in time order): cleaned text, confidence."""
        decoded = []
        for slot, found in zip(slots, words):
            found.sort()
            text = self.clean("".join(w for _, w, _ in found))
            if text:
                probs = np.clip([p for _, _, p in found], 1e-6, 1.0)
                decoded.append(DecodedTurn(slot, text, float(np.exp(np.mean(np.log(probs))))))
        return decoded

    def clean(self, text: str) -> str:
        """Simplified characters, then lexicon slip correction, then general homophone correction
        (each when enabled)."""
        text = to_simplified(text).strip()
        if self.lexicon is not None and self.options.correct_with_lexicon:
            text = self.lexicon.correct(text)
        if self.options.correct_homophones:
            text = self.homophones().correct(text)
        return text

    def homophones(self) -> HomophoneCorrector:
        """The homophone corrector, loaded on first use; it never changes the lexicon's words."""
        if self._homophones is None:
            self._homophones = load_corrector(tuple(self.lexicon.words()) if self.lexicon else ())
        return self._homophones

    def provenance(self) -> dict[str, object]:
        """What the text cleaning did, for the transcript's ``transcription`` block."""
        if not self.options.correct_homophones:
            return {"homophones": {"ran": False}}
        return {"homophones": {"ran": True, **describe(), **self.homophones().settings.to_dict()}}


def warped(samples: np.ndarray, warp: float) -> np.ndarray:
    """``samples`` played ``warp`` times faster (resampled to 1/warp of their length): pitch and
    formants rise by the factor, as a shorter vocal tract would give them."""
    if warp == 1.0:
        return samples
    from scipy.signal import resample_poly

    ratio = Fraction(1 / warp).limit_denominator(100)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def _piece_at(t: float, window: Window) -> Piece:
    """The window's piece holding buffer time ``t`` (a word in a pause goes to the nearer piece)."""
    def distance(p: Piece) -> float:
        return max(p.at - t, 0.0, t - (p.at + p.end - p.start))

    return min(window.pieces, key=distance)


def _unheard(windows: list[Window], heard: set[int], min_s: float = 0.5) -> list[Window]:
    """New windows made of the runs of pieces (together ``min_s`` or longer) that got no words."""
    retry: list[Window] = []
    for window in windows:
        run: list[Piece] = []
        for piece in [*window.pieces, None]:
            if piece is not None and id(piece) not in heard:
                run.append(piece)
                continue
            if run and sum(p.end - p.start for p in run) >= min_s:
                retry.append(Window(run[0].at, run))
            run = []
    return retry


def _words(segment) -> list[tuple[str, float, float]]:
    """(text, mid-time, probability) of each word of a segment."""
    return [(w.word, (w.start + w.end) / 2, w.probability) for w in segment.words or []]


def _window_at(t: float, windows: list[Window], slack: float = 0.5) -> Window | None:
    """The window a segment starting at buffer time ``t`` came from: the last one starting by then.

    The batched pipeline reports a window's start a few frames off (0.2 s has been seen), hence
    ``slack``. A segment can also start well inside its window: with word timestamps its start is
    its first word's, and when Whisper skips the window's first sentences that is late in the
    window. So the nearest window start is not the answer: it can be the next window's, which put
    one window's words into another's turns (seen on fin-in-0052).
    """
    started = [w for w in windows if w.start <= t + slack]
    return max(started, key=lambda w: w.start) if started else min(windows, key=lambda w: w.start, default=None)


# How many times in a row a run of 1, 2, 3 or 4 words must repeat to count as a decoding loop.
LOOP_REPEATS = {1: 8, 2: 5, 3: 4, 4: 4}


def loop_start(keys: list[str]) -> int | None:
    """Index where a decoding loop (one run of 1-4 words repeated over and over) begins, if any."""
    for i in range(len(keys)):
        for period, needed in LOOP_REPEATS.items():
            unit = keys[i : i + period]
            if len(unit) < period or not all(unit):
                continue
            repeats = 1
            while keys[i + repeats * period : i + (repeats + 1) * period] == unit:
                repeats += 1
            if repeats >= needed:
                return i
    return None


def stutter(found: list[tuple[str, float, float]]) -> int:
    """Characters in runs of three or more of the same character (作作作, 诺诺诺): a warped reading
    that stutters more than the plain one is a decoding slip, however sure Whisper is of it (a warp
    once turned a customer turn into 副作作作副副诺诺诺). Real speech has few (对对对, 哈哈哈)."""
    text = "".join(word_chars(t) for t, _, _ in found)
    return sum(len(m.group(0)) for m in re.finditer(r"(\D)\1{2,}", text))


def _loop_keys(found: list[tuple[str, float, float]]) -> list[str]:
    """Words compared for loops: without punctuation, except words that are nothing else (a run
    of "-" or "、" is a loop too: 7-7-1-9-6-2-----... seen on tel-in-0058 at a warp)."""
    return [word_chars(text) or text.strip() for text, _, _ in found]


def _without_loop(found: list[tuple[str, float, float]], window: Window) -> list[tuple[str, float, float]]:
    """The words, less every word of the pieces a decoding loop ran through.

    Whisper's own loop test (compression ratio over the whole window) misses a loop that fills only
    the end of a long window (2,3,2,3,... after a spelled e-mail address, seen on tel-in-0058). The
    pieces it covers lose all their words, so the second pass decodes them again in a window of
    their own, and a loop there is dropped the same way rather than kept.
    """
    start = loop_start(_loop_keys(found))
    if start is None:
        return found
    looped = {id(_piece_at(middle, window)) for _, middle, _ in found[start:]}
    return [w for w in found[:start] if id(_piece_at(w[1], window)) not in looped]


def _is_degenerate(segment) -> bool:
    """Whisper's own tests for a failed decode: text too repetitive or too unlikely."""
    return segment.compression_ratio > 2.4 or segment.avg_logprob < -1.0


def _is_noise(segment, no_speech_threshold: float) -> bool:
    """Whisper's own verdict that a window holds no speech (a cough, line noise, echo)."""
    return segment.no_speech_prob > no_speech_threshold and segment.avg_logprob < -1.0
