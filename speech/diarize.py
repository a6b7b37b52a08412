"""Mono recordings: split the speech into two speakers, then tell agent from customer by their words.

Speaker separation works on short speech regions (VAD with tight pauses, so a region rarely spans
a change of speaker):
1. a first split of the regions into two groups, tried three ways (pitch; pitch and spectral
   centre; mean cepstrum), since any one cue can fail on a given call;
2. from each first split, a 16-component Gaussian mixture per speaker is trained on the frames'
   cepstra (classic GMM speaker modelling), regions are reassigned to the speaker whose model
   explains them best, and this repeats until stable;
3. the split whose models explain the call best (highest total likelihood) wins.
Which group is the agent is decided from what each says, using weighted cue phrases
(``callscope/data/role_cues.json``); with no cues either way the first speaker is the agent.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.features import median_pitch
from speech.segments import Region
from speech.vad import VadOptions

ROLE_CUES = Path(__file__).resolve().parent.parent / "callscope" / "data" / "role_cues.json"
DIARIZATION_VAD = VadOptions(min_silence_ms=200, speech_pad_ms=30)
FRAMES_PER_S = 100  # Whisper's log-mel hop is 10 ms


def split_speakers(samples: np.ndarray, regions: list[tuple[float, float]]) -> list[Region]:
    """Each region labelled speaker 0 or 1 (0 for all when there is too little speech to split)."""
    cepstra, energy = _cepstra(samples)
    units = [_voiced_frames(s, e, energy) for s, e in regions]
    if len(regions) < 4 or sum(len(u) for u in units) < 200:
        return [Region(0, s, e) for s, e in regions]
    starts = _first_splits(samples, regions, cepstra, units)
    best_labels, best_score = starts[0], -np.inf
    for labels in starts:
        labels, score = _self_train(cepstra, units, labels)
        if score > best_score:
            best_labels, best_score = labels, score
    return [Region(int(k), s, e) for k, (s, e) in zip(best_labels, regions)]


def _cepstra(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms frame: 19 cepstral coefficients (standardised over the call) and log energy."""
    from scipy.fft import dct

    mel = _extractor()(samples, padding=0)
    cepstra = dct(mel, type=2, axis=0, norm="ortho")[1:20].T
    cepstra = (cepstra - cepstra.mean(axis=0)) / (cepstra.std(axis=0) + 1e-9)
    return cepstra, mel.mean(axis=0)


@lru_cache(maxsize=1)
def _extractor():
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor()


def _voiced_frames(start: float, end: float, energy: np.ndarray) -> np.ndarray:
    """Frame indices of a region, without its quietest 30 % (pauses and breaths)."""
    frames = np.arange(int(start * FRAMES_PER_S), min(int(end * FRAMES_PER_S), len(energy)))
    if len(frames) <= 5:
        return frames
    return frames[energy[frames] > np.percentile(energy[frames], 30)]


def _first_splits(samples, regions, cepstra, units) -> list[np.ndarray]:
    """Three independent first guesses at who spoke each region."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture
    from sklearn.preprocessing import StandardScaler

    voice = np.array([_pitch_and_centre(samples[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)]) for s, e in regions])
    for j in range(voice.shape[1]):
        column = voice[:, j]
        fill = np.nanmedian(column) if np.isfinite(column).any() else 0.0
        voice[:, j] = np.where(np.isfinite(column), column, fill)
    voice = StandardScaler().fit_transform(voice)
    means = np.array([cepstra[u].mean(axis=0) if len(u) else np.zeros(cepstra.shape[1]) for u in units])
    return [
        GaussianMixture(2, random_state=0, n_init=5).fit_predict(voice[:, :1]),
        GaussianMixture(2, random_state=0, n_init=5).fit_predict(voice),
        KMeans(2, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(means)),
    ]


def _pitch_and_centre(x: np.ndarray) -> tuple[float, float]:
    """Log median pitch and log-frequency spectral centre (150-3400 Hz) of one region."""
    pitch = median_pitch(x)
    n, hop = 512, 160
    if len(x) < n:
        return (np.log(pitch) if np.isfinite(pitch) else np.nan), np.nan
    idx = np.arange(n)[None, :] + hop * np.arange(1 + (len(x) - n) // hop)[:, None]
    power = np.abs(np.fft.rfft(x[idx] * np.hanning(n), axis=1)) ** 2
    power = power[power.sum(axis=1) > np.percentile(power.sum(axis=1), 50)]
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    band = (freqs >= 150) & (freqs <= 3400)
    spectrum = power[:, band].mean(axis=0)
    centre = float((spectrum * np.log(freqs[band])).sum() / (spectrum.sum() + 1e-12))
    return (np.log(pitch) if np.isfinite(pitch) else np.nan), centre


def _self_train(cepstra: np.ndarray, units: list[np.ndarray], labels: np.ndarray, rounds: int = 6):
    """Alternate: fit one GMM per speaker, reassign regions; returns labels and total log-likelihood."""
    from sklearn.mixture import GaussianMixture

    score = -np.inf
    for _ in range(rounds):
        models = []
        for k in (0, 1):
            frames = np.concatenate([u for u, lab in zip(units, labels) if lab == k] or [np.arange(0)])
            if len(frames) < 50:
                return labels, -np.inf  # one speaker swallowed everything: not a two-party split
            models.append(GaussianMixture(16, covariance_type="diag", random_state=0, max_iter=50).fit(cepstra[frames]))
        loglik = np.array([[m.score_samples(cepstra[u]).sum() if len(u) else 0.0 for m in models] for u in units])
        new = np.argmax(loglik, axis=1)
        score = float(loglik.max(axis=1).sum())
        if np.array_equal(new, labels):
            break
        labels = new
    return labels, score


@lru_cache(maxsize=4)
def load_role_cues(path: str | None = None) -> dict[str, dict[str, float]]:
    """Cue phrases and weights for each role (the file is customer-editable data)."""
    data = json.loads(Path(path or ROLE_CUES).read_text(encoding="utf-8"))
    return {"agent": data["agent"], "customer": data["customer"]}


def agent_score(text: str, cues: dict[str, dict[str, float]] | None = None) -> float:
    """How much ``text`` sounds like the agent (positive) or the customer (negative)."""
    cues = cues or load_role_cues()
    score = sum(w * text.count(p) for p, w in cues["agent"].items())
    return score - sum(w * text.count(p) for p, w in cues["customer"].items())


def agent_speaker(texts: dict[int, str], first_speaker: int) -> tuple[int, str]:
    """Which speaker id is the agent, and the evidence used (``text-cues`` or ``first-speaker``)."""
    scores = {spk: agent_score(text) for spk, text in texts.items()}
    if len(scores) == 2:
        (a, sa), (b, sb) = sorted(scores.items())
        if sa != sb:
            return (a if sa > sb else b), "text-cues"
    return first_speaker, "first-speaker"
