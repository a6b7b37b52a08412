"""Script points as a sequence: which step tends to follow which, learnt from labelled calls.

A talk track has an order (greeting, identity check, needs, pitch, objection handling, closing), so
a turn's neighbours say something about it. Per-turn probabilities from the point head are smoothed
with the learnt step-to-step transitions by forward-backward, like an HMM whose emissions are the
head's probabilities; the weight keeps the text in charge (0.3 measured best in cross-validation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.special import logsumexp

TRANSITION_WEIGHT = 0.3
# every step may follow every other: unseen transitions get this pseudo-count, not zero
PSEUDO_COUNT = 0.5


def transition_log_probs(sequences: Iterable[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """(len(labels) + 1) x len(labels) log P(next | previous); the last row is the call's start."""
    index = {label: k for k, label in enumerate(labels)}
    counts = np.full((len(labels) + 1, len(labels)), PSEUDO_COUNT)
    for sequence in sequences:
        previous = len(labels)
        for label in sequence:
            counts[previous, index[label]] += 1
            previous = index[label]
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def smooth(probs: np.ndarray, log_transitions: np.ndarray, weight: float = TRANSITION_WEIGHT) -> np.ndarray:
    """Posterior step probabilities of consecutive turns (rows of ``probs``) given their neighbours."""
    if len(probs) == 0:
        return probs
    emissions = np.log(np.clip(probs, 1e-6, 1.0))
    moves, start = weight * log_transitions[:-1], weight * log_transitions[-1]
    forward = np.empty_like(emissions)
    backward = np.zeros_like(emissions)
    forward[0] = start + emissions[0]
    for i in range(1, len(emissions)):
        forward[i] = logsumexp(forward[i - 1][:, None] + moves, axis=0) + emissions[i]
    for i in range(len(emissions) - 2, -1, -1):
        backward[i] = logsumexp(moves + (emissions[i + 1] + backward[i + 1])[None, :], axis=1)
    posterior = forward + backward
    return np.exp(posterior - logsumexp(posterior, axis=1, keepdims=True))
