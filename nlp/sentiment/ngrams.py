"""Character n-gram sentiment: a logistic head over character 1-3 grams, as fast as the lexicon.

The lexicon knows words; this knows phrasing the lexicon has no entry for (一股味儿, 下次还来,
等了一个半小时) and scores chit-chat where no sentiment word occurs. It is trained only on the
sentences written for this project (``patterns/sentiment_train.tsv``, the same file as the embedding
head) and stored as plain data in ``patterns/sentiment_ngrams.json``: every n-gram with its inverse
document frequency and one weight per class. Rebuild it after editing the sentences with
``python -m nlp.sentiment.ngrams``.

Features are those of scikit-learn's ``TfidfVectorizer(analyzer="char", ngram_range=(1, 3),
sublinear_tf=True)``: ``(1 + log count) * idf``, L2-normalised; a text's score is
``p(positive) - p(negative)`` of the 3-class (negative / neutral / positive) head, in [-1, 1].
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PATTERNS = Path(__file__).resolve().parent.parent / "patterns"
DEFAULT_MODEL = PATTERNS / "sentiment_ngrams.json"
NGRAMS = (1, 2, 3)
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True, slots=True)
class NgramModel:
    """Vocabulary (n-gram -> column), idf per column, weights (classes x columns), bias, classes."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    labels: tuple[str, ...]

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Columns and L2-normalised tf-idf values of one text's known n-grams."""
        counts = Counter(g for g in char_ngrams(text) if g in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=int), np.zeros(0)
        cols = np.fromiter((self.vocabulary[g] for g in counts), dtype=int, count=len(counts))
        values = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=float, count=len(counts))
        values *= self.idf[cols]
        return cols, values / np.linalg.norm(values)

    def score(self, text: str) -> float:
        """``p(pos) - p(neg)`` of one prepared text; a text with no known n-gram scores 0."""
        cols, values = self.features(text)
        if not len(cols):
            return 0.0
        logits = self.weights[:, cols] @ values + self.bias
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return float(probs[self.labels.index("pos")] - probs[self.labels.index("neg")])


def char_ngrams(text: str) -> list[str]:
    """Character 1-3 grams of the lower-cased text, runs of white space read as one space."""
    text = _SPACES.sub(" ", text.lower())
    return [text[i:i + n] for n in NGRAMS for i in range(len(text) - n + 1)]


@lru_cache(maxsize=4)
def load_ngram_model(path: str | None = None) -> NgramModel:
    """Read a model file; ``ValueError`` names the file and what is wrong with it."""
    source = Path(path) if path else DEFAULT_MODEL
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        labels = tuple(raw["labels"])
        grams = raw["ngrams"]
        vocabulary = {g: i for i, g in enumerate(grams)}
        idf = np.asarray([grams[g][0] for g in grams], dtype=float)
        weights = np.asarray([grams[g][1:] for g in grams], dtype=float).T
        bias = np.asarray(raw["bias"], dtype=float)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{source}: bad n-gram sentiment model ({type(exc).__name__}: {exc})") from None
    if weights.shape != (len(labels), len(vocabulary)) or bias.shape != (len(labels),) \
            or not {"pos", "neg"} <= set(labels):
        raise ValueError(f"{source}: model shapes do not match its labels {labels}")
    return NgramModel(vocabulary, idf, weights, bias, labels)


def fit_ngram_model(rows: list[tuple[str, str]], *, strength: float = 16.0, min_count: int = 2) -> NgramModel:
    """Train on ``(label, text)`` rows: scikit-learn's tf-idf and logistic regression (``C = strength``).

    N-grams seen in fewer than ``min_count`` sentences are dropped: they only memorise one sentence.
    16 and 2 were the best of C 1/4/16 x min_count 1/2 in 5-fold cross-validation on
    ``sentiment_train.tsv`` itself (positive vs negative accuracy 0.933; C=4: 0.930, C=1: 0.921).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from nlp.sentiment import load_rules, prepare
    from nlp.text import normalise

    rules = load_rules()
    texts = [rules.without_blocked(prepare(normalise(text))) for _, text in rows]
    vectorizer = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=min_count)
    x = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=strength, max_iter=3000, class_weight="balanced")
    model.fit(x, [label for label, _ in rows])
    return NgramModel(dict(vectorizer.vocabulary_), vectorizer.idf_.astype(float), model.coef_.astype(float),
                      model.intercept_.astype(float), tuple(str(c) for c in model.classes_))


def save_ngram_model(model: NgramModel, path: Path = DEFAULT_MODEL) -> None:
    """Write a model as JSON: n-gram -> [idf, weight per class], numbers rounded to 4 decimals."""
    grams = {}
    for gram, i in sorted(model.vocabulary.items(), key=lambda item: item[1]):
        grams[gram] = [round(float(model.idf[i]), 4), *(round(float(w), 4) for w in model.weights[:, i])]
    data = {"labels": list(model.labels), "bias": [round(float(b), 4) for b in model.bias],
            "trained_on": "sentiment_train.tsv", "features": "char 1-3 grams, sublinear tf-idf, l2",
            "ngrams": grams}
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    from nlp.sentiment.head import read_training

    save_ngram_model(fit_ngram_model(read_training()))
