"""Mono recordings: split the speech into two speakers, then tell agent from customer by their words.

Speaker separation clusters 1-second windows of speech on voice features (Whisper's log-mel
spectrum statistics and pitch) into two groups. Which group is the agent is decided from what each
says, using weighted cue phrases (``callscope/data/role_cues.json``: the agent greets with the
company's name, asks for verification, thanks for the call); with no cues either way the first
speaker is taken to be the agent, as in an inbound call.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.features import median_pitch
from speech.segments import Region

ROLE_CUES = Path(__file__).resolve().parent.parent / "callscope" / "data" / "role_cues.json"
WINDOW_S, HOP_S = 1.0, 0.5


def split_speakers(samples: np.ndarray, regions: list[tuple[float, float]]) -> list[Region]:
    """Regions labelled speaker 0 or 1, split where the speaker changes inside a region."""
    windows = [(a, min(a + WINDOW_S, e)) for s, e in regions for a in _starts(s, e)]
    if len(windows) < 4:
        return [Region(0, s, e) for s, e in regions]
    features = np.array([_voice_features(samples, a, b) for a, b in windows])
    labels = _two_clusters(features)
    return _relabel_regions(regions, windows, labels)


def _starts(start: float, end: float) -> list[float]:
    count = max(1, int(np.ceil((end - start - WINDOW_S) / HOP_S)) + 1)
    return [start + i * HOP_S for i in range(count) if start + i * HOP_S < end - 0.2] or [start]


def _voice_features(samples: np.ndarray, a: float, b: float) -> np.ndarray:
    """Mean and spread of the log-mel spectrum plus log pitch for one window."""
    chunk = samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
    mel = _mel(chunk)
    pitch = median_pitch(chunk)
    return np.concatenate([mel.mean(axis=1), mel.std(axis=1), [np.log(pitch) if np.isfinite(pitch) else np.nan]])


def _mel(chunk: np.ndarray) -> np.ndarray:
    return _extractor()(chunk, padding=0)[:40]  # the lower 40 of 80 bands carry the voice


@lru_cache(maxsize=1)
def _extractor():
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor()


def _two_clusters(features: np.ndarray) -> np.ndarray:
    """0/1 label per window from a two-component Gaussian mixture on standardised features."""
    from sklearn.mixture import GaussianMixture
    from sklearn.preprocessing import StandardScaler

    pitch = features[:, -1]
    fill = np.nanmedian(pitch) if np.isfinite(pitch).any() else 0.0
    features[:, -1] = np.where(np.isfinite(pitch), pitch, fill)
    x = StandardScaler().fit_transform(features)
    x[:, -1] *= 4.0  # pitch separates two voices far better than any one spectral band
    model = GaussianMixture(2, covariance_type="diag", random_state=0, n_init=3).fit(x)
    return model.predict(x)


def _relabel_regions(regions, windows, labels) -> list[Region]:
    """Each region takes its windows' labels; a region with a run of the other label is split."""
    out: list[Region] = []
    k = 0
    for start, end in regions:
        mine = []
        while k < len(windows) and windows[k][0] < end and windows[k][0] >= start - 1e-6:
            mine.append((windows[k][0], int(labels[k])))
            k += 1
        out.extend(_split_region(start, end, mine))
    return out


def _split_region(start: float, end: float, labelled: list[tuple[float, int]]) -> list[Region]:
    """Cut a region where the label changes and holds for 2+ windows; short flips are ignored."""
    if not labelled:
        return [Region(0, start, end)]
    labels = [lab for _, lab in labelled]
    smoothed = labels[:]
    for i in range(1, len(labels) - 1):
        if labels[i - 1] == labels[i + 1] != labels[i]:
            smoothed[i] = labels[i - 1]
    pieces: list[Region] = []
    for (t, lab) in zip([t for t, _ in labelled], smoothed):
        cut = max(start, t + (WINDOW_S - HOP_S) / 2) if pieces else start
        if not pieces or pieces[-1].speaker != lab:
            if pieces:
                pieces[-1].end = cut
            pieces.append(Region(lab, cut, end))
    return [p for p in pieces if p.end - p.start > 0.05]


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
