"""Acoustic facts of a call: talk time, dead air, overtalk, speech rate and per-turn agitation.

Timing comes from the speech regions (what the VAD heard on each party's channel), not from the
words, so it holds even where transcription is poor. Agitation compares each turn's loudness and
pitch with the same speaker's own median over the call: a customer who gets louder and higher
than they started scores high, a naturally loud speaker does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from callscope.types import Acoustics, Span, Turn
from speech.audio import SAMPLE_RATE
from speech.segments import Region
from speech.textnorm import written_chars


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """Thresholds: gaps shorter than ``min_silence_s`` are normal turn-taking, not dead air."""

    min_silence_s: float = 3.0
    min_overlap_s: float = 0.3


def measure(
    regions: list[Region],
    roles: dict[int, str],
    turns: list[Turn],
    options: FeatureOptions | None = None,
) -> Acoustics:
    """Acoustics of one call from its speech regions (speaker -> role via ``roles``) and turns."""
    options = options or FeatureOptions()
    by_role: dict[str, list[tuple[float, float]]] = {role: [] for role in ("agent", "customer")}
    for region in regions:
        by_role.setdefault(roles[region.speaker], []).append((region.start, region.end))
    merged = {role: _union(spans) for role, spans in by_role.items()}
    talk = {role: sum(e - s for s, e in spans) for role, spans in merged.items()}
    silences = [
        Span(s, e) for s, e in _gaps(_union([x for v in merged.values() for x in v]))
        if e - s >= options.min_silence_s
    ]
    overlaps = _overlaps(merged.get("agent", []), merged.get("customer", []), options.min_overlap_s)
    chars = {role: 0 for role in talk}
    for turn in turns:
        chars[turn.role] = chars.get(turn.role, 0) + written_chars(turn.text)
    rate = {role: (chars[role] / (talk[role] / 60.0) if talk[role] > 0 else 0.0) for role in talk}
    return Acoustics(
        talk_s=talk,
        silence_s=sum(s.duration for s in silences),
        overlap_s=sum(s.duration for s in overlaps),
        silences=silences,
        overlaps=overlaps,
        speech_rate_cpm=rate,
    )


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping cover of ``spans``."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _gaps(speech: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Stretches between speech within the call (before the first word counts as ringing, not dead air)."""
    return [(a[1], b[0]) for a, b in pairwise(speech) if b[0] > a[1]]


def _overlaps(agent, customer, min_s: float) -> list[Span]:
    """Spans where both talk; ``who`` started second (talked over), ``over`` was talking first."""
    out = []
    for a0, a1 in agent:
        for c0, c1 in customer:
            start, end = max(a0, c0), min(a1, c1)
            if end - start >= min_s:
                who, over = ("agent", "customer") if a0 > c0 else ("customer", "agent")
                out.append(Span(start, end, who=who, over=over))
    return sorted(out, key=lambda s: s.start)


def agitation(turns: list[Turn], channels: list[np.ndarray], channel_of: dict[str, int]) -> None:
    """Set ``turn.agitation``: mean z-score of loudness and pitch against the speaker's own median."""
    stats = []
    for turn in turns:
        samples = channels[channel_of[turn.role]][
            int((turn.start or 0) * SAMPLE_RATE) : int((turn.end or 0) * SAMPLE_RATE)
        ]
        stats.append((_loudness_db(samples), median_pitch(samples)))
    for role in {t.role for t in turns}:
        idx = [i for i, t in enumerate(turns) if t.role == role]
        loud = _robust_z(np.array([stats[i][0] for i in idx]))
        pitch = _robust_z(np.array([stats[i][1] for i in idx]))
        for i, zl, zp in zip(idx, loud, pitch):
            known = [z for z in (zl, zp) if np.isfinite(z)]
            score = float(np.mean(known)) if known else 0.0
            turns[i].agitation = round(float(np.clip(score, -5.0, 5.0)), 2)


def _robust_z(values: np.ndarray) -> np.ndarray:
    """(x - median) / MAD-based spread; NaN where the value is unknown."""
    known = values[np.isfinite(values)]
    if known.size < 2:
        return np.zeros_like(values)
    median = np.median(known)
    spread = 1.4826 * np.median(np.abs(known - median)) or float(np.std(known)) or 1.0
    return (values - median) / spread


def _loudness_db(samples: np.ndarray) -> float:
    """RMS level in dBFS of the loudest half of 50 ms frames (so pauses do not dilute it)."""
    frame = SAMPLE_RATE // 20
    n = len(samples) // frame
    if n == 0:
        return float("nan")
    rms = np.sqrt(np.mean(np.square(samples[: n * frame].reshape(n, frame), dtype=np.float64), axis=1))
    top = np.sort(rms)[n // 2 :]
    return float(20 * np.log10(np.mean(top) + 1e-9))


def median_pitch(samples: np.ndarray, fmin: float = 70.0, fmax: float = 400.0) -> float:
    """Median F0 (Hz) over voiced 40 ms frames, by normalised autocorrelation; NaN if unvoiced."""
    frame, hop = 640, 320
    n = 1 + (len(samples) - frame) // hop if len(samples) >= frame else 0
    if n <= 0:
        return float("nan")
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    frames = samples[idx] * np.hanning(frame)[None, :]
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, 2 * frame, axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    energy = acf[:, :1] + 1e-12
    lo, hi = int(SAMPLE_RATE / fmax), int(SAMPLE_RATE / fmin)
    window = acf[:, lo:hi] / energy
    best = window.argmax(axis=1)
    voiced = window[np.arange(n), best] > 0.5
    if not voiced.any():
        return float("nan")
    return float(np.median(SAMPLE_RATE / (best[voiced] + lo)))
