"""Feature builders shared by training and prediction, so both see calls the same way."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.scoring import point_feature_width, point_features, reason_evidence
from nlp.taxonomy import Taxonomy
from nlp.text import CallText

OPENING_CUSTOMER_TURNS = 3
PREVIOUS_TURN_WEIGHT = 0.7
NEXT_TURN_WEIGHT = 0.5


def text_vectorizer() -> TfidfVectorizer:
    """Character 1-3 grams: robust to segmentation and to ASR slips inside words."""
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                           max_features=40000)


def customer_text(call: CallText) -> str:
    """Everything the customer said in a call, turns joined by spaces."""
    return " ".join(t.text for t in call.role_turns("customer"))


def customer_words(calls: list[CallText]) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    """A ``text_vectorizer`` fitted on what the customer said in each call, and the calls' rows: what
    the reason and lead heads over the customer's words both read (one fit, one pickled vectorizer)."""
    vectorizer = text_vectorizer()
    rows = vectorizer.fit_transform([customer_text(c) for c in calls])
    vectorizer.stop_words_ = None   # only for introspection, and most of the pickle's size
    return vectorizer, rows


def word_grams(doc: str) -> list[str]:
    """jieba words and word pairs of a turn (its words joined by spaces)."""
    words = doc.split(" ") if doc else []
    return words + [f"{a}_{b}" for a, b in pairwise(words)]


def word_vectorizer() -> TfidfVectorizer:
    """Word 1-2 grams: whole words (帮您 申请, 是 因为) that character n-grams see only in pieces."""
    return TfidfVectorizer(analyzer=word_grams, min_df=2, sublinear_tf=True)


def agent_words(calls: list[CallText]) -> list[str]:
    """The jieba words of every agent turn, joined by spaces: what ``word_vectorizer`` reads."""
    return [" ".join(t.words) for call in calls for t in call.role_turns("agent")]


def point_matrix(calls: list[CallText], taxonomy: Taxonomy, vectorizer: TfidfVectorizer,
                 words: TfidfVectorizer) -> sparse.csr_matrix:
    """Agent turns of all calls: character and word n-grams, cue counts and position features."""
    texts = [t.text for call in calls for t in call.role_turns("agent")]
    before = [_neighbour(call, t.index, -1) for call in calls for t in call.role_turns("agent")]
    after = [_neighbour(call, t.index, +1) for call in calls for t in call.role_turns("agent")]
    dense = [point_features(call, taxonomy) for call in calls]
    dense_rows = np.vstack(dense) if dense else np.zeros((0, point_feature_width(taxonomy)))
    n = len(texts)
    grams = vectorizer.transform(texts + before + after).tocsr()  # one call: rows are independent
    return sparse.hstack([grams[:n], PREVIOUS_TURN_WEIGHT * grams[n:2 * n], NEXT_TURN_WEIGHT * grams[2 * n:],
                          words.transform(agent_words(calls)), sparse.csr_matrix(dense_rows)]).tocsr()


def _neighbour(call: CallText, index: int, step: int) -> str:
    """What the customer said just before (an objection) or after (a yes to a confirmation) a turn."""
    other = index + step
    if 0 <= other < len(call.turns) and call.turns[other].role == "customer":
        return call.turns[other].text
    return ""


def reason_pair_features(call: CallText, taxonomy: Taxonomy, evidence: np.ndarray | None = None) -> np.ndarray:
    """Reason x features that mean the same for every reason, so one head can learn from all of them.

    Rare reasons (two or three calls in a corpus) cannot train a head of their own; a head over
    "how much, where and by whom the reason's cues were said" learns from every reason at once.
    ``evidence`` is ``reason_evidence(call, taxonomy)`` when the caller already has it.
    """
    from nlp.scoring import industry_mask, is_sales_call

    evidence = reason_evidence(call, taxonomy) if evidence is None else evidence
    width = len(taxonomy.reasons)
    if not len(evidence):
        return np.zeros((width, 10))
    customer = np.array([t.role == "customer" for t in call.turns])
    cust = evidence[customer].sum(axis=0) if customer.any() else np.zeros(width)
    agent = evidence[~customer].sum(axis=0) if (~customer).any() else np.zeros(width)
    opening_rows = [t.index for t in call.role_turns("customer")[:OPENING_CUSTOMER_TURNS]]
    opening = evidence[opening_rows].sum(axis=0) if opening_rows else np.zeros(width)
    turns_with = (evidence[customer] > 0).sum(axis=0) if customer.any() else np.zeros(width)
    # a reason the customer never named ranks last, not by its place in the taxonomy
    rank = np.where(cust > 0, np.argsort(np.argsort(-cust, kind="stable")), 5)
    sales = is_sales_call(call, taxonomy)
    is_outbound_reason = np.array([sales and code == taxonomy.outbound_reason for code in taxonomy.reasons])
    return np.column_stack([
        np.log1p(cust), np.log1p(agent), np.log1p(opening), np.log1p(turns_with),
        np.log1p(evidence.max(axis=0)), cust / max(cust.sum(), 1e-9), np.minimum(rank, 5) / 5,
        is_outbound_reason, industry_mask(call, taxonomy), (cust > 0) & (opening > 0),
    ]).astype(float)
