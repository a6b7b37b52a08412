"""Cross-validation: figures for a trained model measured only on calls it was not trained on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.model_selection import StratifiedKFold

from callscope.types import Conversation
from models.corpus import LabelledCall
from models.evaluate import evaluate, realign
from models.folds import fold_groups
from models.heard import training_set, with_extra
from models.trained import fit_scorer
from nlp.findings import call_findings
from nlp.scoring import CueScorer
from nlp.taxonomy import Taxonomy
from nlp.text import CallText, call_text


def stratum(call: LabelledCall) -> str:
    """Folds are balanced by direction and industry, so each test fold looks like the whole."""
    extra = call.conversation.extra
    return f"{extra.get('direction', '?')}/{extra.get('industry', '?')}"


def cross_validate(corpus: list[LabelledCall], taxonomy: Taxonomy, *, folds: int = 5, seed: int = 0,
                   transcripts: dict[str, Conversation] | None = None, extra: list[LabelledCall] = (),
                   on_fold: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Per-task metrics of the trained model (out-of-fold) and of the untrained cue scorer.

    With ``transcripts`` (our own transcription of the same calls, by call id) the training folds
    also learn from our transcripts of their calls (``models.heard``), as ``callscope train`` does,
    and each held-out call is also analysed from its transcript, turns aligned to the labelled
    ones by time: the figures a site gets from recordings rather than from written transcripts.
    ``extra`` calls join every training fold as ``callscope train --extra`` uses them, and are
    never scored.
    """
    texts = [call_text(c.conversation) for c in corpus]
    extra_texts = [call_text(c.conversation) for c in extra]
    heard = {cid: call_text(conv) for cid, conv in (transcripts or {}).items()}
    on_audio: list[tuple[dict, dict]] = []
    labels = [c.labels for c in corpus]
    groups, k = fold_groups([stratum(c) for c in corpus], folds)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    trained: list[tuple[dict, dict] | None] = [None] * len(corpus)
    for k, (train, test) in enumerate(splitter.split(texts, groups)):
        train_texts, train_labels, weights = training_set(corpus, texts, heard, train)
        scorer = fit_scorer(taxonomy=taxonomy, **with_extra(train_texts, train_labels, weights, extra_texts, extra))
        for i in test:
            trained[i] = (_findings(texts[i], scorer), labels[i])
            own = heard.get(corpus[i].conversation.call_id)
            if own is not None:
                gold_turns = [t.to_dict() for t in corpus[i].conversation.turns]
                on_audio.append((realign(_findings(own, scorer, with_turns=True), gold_turns), labels[i]))
        if on_fold:
            on_fold(k)
    cues = CueScorer(taxonomy)
    untrained = [(_findings(t, cues), lab) for t, lab in zip(texts, labels, strict=True)]
    out = {"trained_cv": _without_qa(evaluate([p for p in trained if p is not None])),
           "untrained": _without_qa(evaluate(untrained)), "folds": splitter.get_n_splits()}
    if on_audio:
        out["trained_cv_own_transcripts"] = _without_qa(evaluate(on_audio))
    return out


def _without_qa(metrics: dict[str, Any]) -> dict[str, Any]:
    """CV findings are not QA-checked, so a QA figure there would be a meaningless 0."""
    return {**metrics, "qa": None}


def _findings(call: CallText, scorer, *, with_turns: bool = False) -> dict[str, Any]:
    findings = call_findings(call, scorer, with_pii=False, with_sentiment=False)
    if with_turns:
        findings["turns"] = [{"role": t.role, "start": t.start, "end": t.end} for t in call.turns]
    return findings


def cross_validate_risk(analyses: list[dict[str, Any]], complained: list[bool], *, folds: int = 5,
                        seed: int = 0) -> dict[str, Any]:
    """Complaint-risk figures: the default weights on every call, and learnt weights out-of-fold."""
    from models.evaluate import risk_metrics
    from models.risk import default_risk_model, fit_risk, measure_signals

    default = default_risk_model()
    out = {"default": risk_metrics([default.score(measure_signals(a, default.settings)) for a in analyses],
                                   complained)}
    positives = sum(complained)
    k = min(folds, positives, len(complained) - positives)
    if k < 2:
        return out
    scores = [0.0] * len(analyses)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for train, test in splitter.split(analyses, complained):
        model = fit_risk([analyses[i] for i in train], [complained[i] for i in train], settings=default.settings)
        for i in test:
            scores[i] = model.score(measure_signals(analyses[i], model.settings))
    out["trained_cv"] = risk_metrics(scores, complained)
    out["folds"] = k
    return out
