"""A head over what the customer said that tells whether a call holds a sales lead at all.

The lead finder (``nlp.leads``) reads intent from cue phrases once a product is on the table; a lead
voiced in words no cue lists is missed. This head, learnt from every labelled call, is the finder's
second opinion (``Scorer.lead_probability``): where the rules find none and it is sure
(``nlp.leads.HEARD_LEAD``), the call is a low lead. Leave-one-writer-out over the eighteen writers of
``eval/extra`` (``benchmarks/writers.py``): lead (any) F1 0.915 by the rules alone, 0.927 with this head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from models.features import customer_text
from nlp.text import CallText

LEAD_TEXT_C = 4.0


def _with_direction(x: sparse.csr_matrix, calls: list[CallText]) -> sparse.csr_matrix:
    """The customer's character n-grams of each call (``x``), and whether the call was outbound."""
    outbound = np.array([[float(c.meta.get("direction") == "outbound")] for c in calls])
    return sparse.hstack([x, sparse.csr_matrix(outbound)]).tocsr()


@dataclass
class LeadTextHead:
    """P(the call holds a lead of any level | the customer's words)."""

    vectorizer: TfidfVectorizer
    model: LogisticRegression

    def probability(self, call: CallText) -> float:
        x = self.vectorizer.transform([customer_text(call)])
        return float(self.model.predict_proba(_with_direction(x, [call]))[0, 1])


def fit_lead_text(vectorizer: TfidfVectorizer, x: sparse.csr_matrix, calls: list[CallText], labels: list[dict],
                  weights: list[float]) -> LeadTextHead | None:
    """Learn the head from the calls' rows ``x`` of ``models.features.customer_words`` (None when the
    calls hold only leads or only calls without one)."""
    y = np.array([(label.get("lead") or {}).get("intent", "none") != "none" for label in labels])
    if y.all() or not y.any():
        return None
    model = LogisticRegression(C=LEAD_TEXT_C, class_weight="balanced", max_iter=3000)
    model.fit(_with_direction(x, calls), y, sample_weight=np.asarray(weights, dtype=float))
    return LeadTextHead(vectorizer, model)
