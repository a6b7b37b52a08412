"""A per-reason head over the character n-grams of what the customer said in a call.

The shared reason head (``models.trained``) sees a call only through the taxonomy's cues, so a reason
said in words no cue lists is missed. This head reads the customer's own words and, averaged with the
shared head (``REASON_TEXT_WEIGHT``), hears those too. Chosen leave-one-writer-out over the eighteen
writers of ``eval/extra`` (each scored with a head trained on the corpus and the other seventeen;
``benchmarks/writers.py``): reasons macro-F1 0.891 with the shared head alone, 0.915 averaged at 0.5 (an experiment
outside the repository read 0.905-0.920 for weights 0.4-0.7 and C 1-16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from models.features import customer_text
from nlp.taxonomy import Taxonomy
from nlp.text import CallText

REASON_TEXT_WEIGHT = 0.5
REASON_TEXT_C = 4.0
MIN_CALLS = 2   # a reason labelled on fewer calls gets no head (its probability stays the shared head's)


@dataclass
class ReasonTextHead:
    """One logistic head per reason code, stacked so a call costs one sparse product."""

    vectorizer: TfidfVectorizer
    codes: tuple[str, ...]          # the reason of each column of ``weights``
    weights: np.ndarray             # features x codes
    bias: np.ndarray                # codes

    def probabilities(self, call: CallText) -> dict[str, float]:
        """P(reason | the customer's words) for each code that has a head."""
        x = self.vectorizer.transform([customer_text(call)])
        logits = np.asarray(x @ self.weights).ravel() + self.bias
        return dict(zip(self.codes, 1.0 / (1.0 + np.exp(-logits)), strict=True))

    def blend(self, call: CallText, codes: list[str], probs: np.ndarray) -> np.ndarray:
        """``probs`` (the shared head's, in ``codes`` order) averaged with this head's where it has one."""
        text = self.probabilities(call)
        return np.array([(1 - REASON_TEXT_WEIGHT) * p + REASON_TEXT_WEIGHT * text[c] if c in text else p
                         for c, p in zip(codes, probs, strict=True)])


def fit_reason_text(vectorizer: TfidfVectorizer, x: sparse.csr_matrix, labels: list[dict], taxonomy: Taxonomy,
                    weights: list[float]) -> ReasonTextHead:
    """Learn a head for every reason labelled on at least ``MIN_CALLS`` of the calls, from their rows ``x``
    of ``models.features.customer_words``."""
    sample_weight = np.asarray(weights, dtype=float)
    codes, columns, bias = [], [], []
    for code in taxonomy.reasons:
        y = np.array([code in label.get("reasons", []) for label in labels])
        if y.sum() < MIN_CALLS or y.all():
            continue
        head = LogisticRegression(C=REASON_TEXT_C, class_weight="balanced", max_iter=2000)
        head.fit(x, y, sample_weight=sample_weight)
        codes.append(code)
        columns.append(head.coef_[0])
        bias.append(head.intercept_[0])
    width = len(vectorizer.vocabulary_)
    matrix = np.column_stack(columns).astype(np.float32) if columns else np.zeros((width, 0), np.float32)
    return ReasonTextHead(vectorizer, tuple(codes), matrix, np.asarray(bias, dtype=float))
