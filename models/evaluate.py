"""Accuracy of analyses against corpus labels: the figures `callscope eval` prints.

Every task is scored as sets of (call, item) pairs, so micro figures count items and macro
figures average the per-code F1 over every code that occurs in the labels or the predictions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

LEAD_NONE = "none"


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives of one code or task."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: set, gold: set) -> None:
        """Count one call's predicted and gold items."""
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Figures rounded for reports, with the support (gold count)."""
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "support": self.tp + self.fn, "predicted": self.tp + self.fp}


@dataclass(slots=True)
class PerCode:
    """Counts for a whole task and for each code in it."""

    total: Counts = field(default_factory=Counts)
    codes: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))

    def add(self, predicted: set[tuple], gold: set[tuple], code_of) -> None:
        """Count one call; ``code_of`` maps an item to the code it is tallied under."""
        self.total.add(predicted, gold)
        for code in {code_of(i) for i in predicted | gold}:
            self.codes[code].add({i for i in predicted if code_of(i) == code},
                                 {i for i in gold if code_of(i) == code})

    @property
    def macro_f1(self) -> float:
        return sum(c.f1 for c in self.codes.values()) / len(self.codes) if self.codes else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Micro and macro figures plus the per-code table."""
        return {"micro": self.total.to_dict(), "macro_f1": round(self.macro_f1, 4),
                "per_code": {k: v.to_dict() for k, v in sorted(self.codes.items())}}


def align_turns(predicted: list[dict[str, Any]], gold: list[dict[str, Any]]) -> dict[int, int]:
    """Map each turn of an analysis to the labelled turn of the same role it overlaps most in time.

    Our own transcription cuts turns differently from the labeller, so turn numbers differ; with
    times on both sides a finding on our turn 7 can still be scored against the label on turn 6.
    Turns without times, or without any overlap, keep their own number.
    """
    mapping = {}
    for i, turn in enumerate(predicted):
        best, best_overlap = i, 0.0
        for j, other in enumerate(gold):
            if other.get("role") != turn.get("role") or None in (turn.get("start"), other.get("start")):
                continue
            overlap = min(turn["end"], other["end"]) - max(turn["start"], other["start"])
            if overlap > best_overlap:
                best, best_overlap = j, overlap
        mapping[i] = best
    return mapping


def realign(analysis: dict[str, Any], gold_turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The analysis with its turn numbers replaced by the labelled turns they overlap."""
    if not analysis.get("turns") or not gold_turns or gold_turns[0].get("start") is None:
        return analysis
    mapping = align_turns(analysis["turns"], gold_turns)
    out = dict(analysis)
    for key in ("script_points", "competitors"):
        out[key] = [{**item, "turn": mapping.get(item["turn"], item["turn"])} for item in analysis.get(key, [])]
    return out


def canonical_brand(name: str) -> str:
    """The competitor lexicon's name for a brand labelled by one of its aliases (中国太保 -> 太平洋保险),
    so a label written with another common name of the same company still matches."""
    from nlp.competitors import load_competitor_patterns

    names = load_competitor_patterns().names
    return names[name][0] if name in names and names[name][1] == "alias" else name


def evaluate(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Metrics for (analysis, labels) pairs, one per call."""
    reasons, points, competitors, lead_any, qa = PerCode(), PerCode(), PerCode(), Counts(), PerCode()
    primary_hits = intent_hits = dimension_hits = dimension_total = product_hits = product_total = 0
    risk_scores: list[float] = []
    complained: list[bool] = []
    outcome_hits = outcome_total = 0
    for analysis, labels in pairs:
        risk = analysis.get("complaint_risk")
        if isinstance(risk, dict) and "complained_later" in labels:
            risk_scores.append(float(risk["score"]))
            complained.append(bool(labels["complained_later"]))
        outcome = analysis.get("outcome")
        if isinstance(outcome, dict) and outcome.get("source") == "predicted" and labels.get("outcome"):
            outcome_total += 1
            outcome_hits += outcome.get("label") == labels["outcome"]
        predicted = [r["code"] for r in analysis.get("reasons", [])]
        gold = list(labels.get("reasons", []))
        reasons.add(set(predicted), set(gold), lambda code: code)
        primary_hits += bool(predicted and gold and predicted[0] == gold[0])
        points.add({(p["turn"], p["point"]) for p in analysis.get("script_points", [])},
                   {(p["turn"], p["point"]) for p in labels.get("script_points", [])}, lambda i: i[1])
        found = {(c["turn"], c["brand"]): c.get("dimension") for c in analysis.get("competitors", [])}
        truth = {(c["turn"], canonical_brand(c["brand"])): c.get("dimension") for c in labels.get("competitors", [])}
        competitors.add(set(found), set(truth), lambda i: i[1])
        for key in set(found) & set(truth):
            dimension_total += 1
            dimension_hits += found[key] == truth[key]
        pred_intent = (analysis.get("lead") or {}).get("intent", LEAD_NONE)
        gold_intent = (labels.get("lead") or {}).get("intent", LEAD_NONE)
        lead_any.add({0} if pred_intent != LEAD_NONE else set(), {0} if gold_intent != LEAD_NONE else set())
        intent_hits += pred_intent == gold_intent
        gold_product = (labels.get("lead") or {}).get("product") or ""
        if pred_intent != LEAD_NONE and gold_intent != LEAD_NONE and gold_product:
            product_total += 1
            product_hits += same_product((analysis.get("lead") or {}).get("product") or "", gold_product)
        found_codes = {v.get("code") or v.get("rule") for v in (analysis.get("qa") or {}).get("violations", [])}
        qa.add({c for c in found_codes if c}, set(labels.get("qa_violations", [])), lambda code: code)
    calls = len(pairs) or 1
    return {
        "calls": len(pairs),
        "reasons": {**reasons.to_dict(), "primary_accuracy": round(primary_hits / calls, 4)},
        "script_points": points.to_dict(),
        "competitors": {**competitors.to_dict(),
                        "dimension_accuracy": round(dimension_hits / dimension_total, 4) if dimension_total else None},
        "lead": {"any": lead_any.to_dict(), "intent_accuracy": round(intent_hits / calls, 4),
                 "product_agreement": round(product_hits / product_total, 4) if product_total else None,
                 "product_calls": product_total},
        "qa": qa.to_dict(),
        "complaint_risk": risk_metrics(risk_scores, complained),
        "outcome": {"accuracy": round(outcome_hits / outcome_total, 4) if outcome_total else None,
                    "calls": outcome_total},
    }


def same_product(predicted: str, gold: str) -> bool:
    """Do two product names name the same thing, leniently: they share two characters in a row
    (流量月包 / 流量包, 账单分期 / 分期 are one; 宽带 / 流量包 are not). Labels word products their own way,
    so exact equality would score wording, not whether a lead list points telesales to the right product."""
    predicted, gold = predicted.upper(), gold.upper()
    return any(predicted[i:i + 2] in gold for i in range(len(predicted) - 1)) or (predicted != "" and predicted == gold)


def risk_metrics(scores: list[float], complained: list[bool], top_share: float = 0.1) -> dict[str, Any]:
    """ROC AUC of complaint-risk scores and the precision of the top ``top_share`` of calls by score
    (what a team acting on the top of the list sees); None where the labels do not allow them."""
    from sklearn.metrics import roc_auc_score

    n, positives = len(scores), sum(complained)
    out: dict[str, Any] = {"calls": n, "complaints": positives, "roc_auc": None, "precision_top10": None}
    if n == 0:
        return out
    if 0 < positives < n:
        out["roc_auc"] = round(float(roc_auc_score(complained, scores)), 4)
    k = max(1, math.ceil(n * top_share))
    ranked = sorted(zip(scores, complained, strict=True), key=lambda p: -p[0])[:k]
    out["precision_top10"] = round(sum(y for _, y in ranked) / k, 4)
    out["top_k"] = k
    return out


def summary_lines(metrics: dict[str, Any], *, per_code: bool = True) -> list[str]:
    """Human-readable report: the headline figures, then per-code tables."""
    r, s, c, lead = metrics["reasons"], metrics["script_points"], metrics["competitors"], metrics["lead"]
    lines = [
        f"calls: {metrics['calls']}",
        (f"reasons        micro-F1 {r['micro']['f1']:.3f}  macro-F1 {r['macro_f1']:.3f}  "
         f"primary accuracy {r['primary_accuracy']:.3f}"),
        f"script points  micro-F1 {s['micro']['f1']:.3f}  macro-F1 {s['macro_f1']:.3f}",
        f"competitors    P {c['micro']['precision']:.3f}  R {c['micro']['recall']:.3f}  "
        f"F1 {c['micro']['f1']:.3f}  dimension accuracy "
        + (f"{c['dimension_accuracy']:.3f}" if c["dimension_accuracy"] is not None else "n/a"),
        (f"lead (any)     P {lead['any']['precision']:.3f}  R {lead['any']['recall']:.3f}  "
         f"F1 {lead['any']['f1']:.3f}  4-level accuracy {lead['intent_accuracy']:.3f}"),
    ]
    if lead.get("product_agreement") is not None:
        lines.append(f"lead product   agreement {lead['product_agreement']:.3f}  "
                     f"(of {lead['product_calls']} calls where both find a lead; names sharing two characters)")
    if metrics.get("qa") is not None:
        lines.append(f"qa violations  micro-F1 {metrics['qa']['micro']['f1']:.3f}  "
                     f"macro-F1 {metrics['qa']['macro_f1']:.3f}  (codes in labels or findings)")
    risk = metrics.get("complaint_risk") or {}
    if risk.get("calls"):
        auc = f"{risk['roc_auc']:.3f}" if risk["roc_auc"] is not None else "n/a"
        lines.append(f"complaint risk ROC AUC {auc}  precision in top 10% {risk['precision_top10']:.3f} "
                     f"(top {risk['top_k']} of {risk['calls']} calls, {risk['complaints']} complained)")
    outcome = metrics.get("outcome") or {}
    if outcome.get("calls"):
        lines.append(f"outcome        accuracy {outcome['accuracy']:.3f} ({outcome['calls']} calls predicted)")
    if per_code:
        for task in ("reasons", "script_points", "competitors", "qa"):
            if metrics.get(task) is None:
                continue
            lines += ["", f"{task}: {'code':<24}{'P':>7}{'R':>7}{'F1':>7}{'gold':>6}{'pred':>6}"]
            for code, row in metrics[task]["per_code"].items():
                lines.append(f"{'':<{len(task) + 2}}{code:<24}{row['precision']:>7.3f}{row['recall']:>7.3f}"
                             f"{row['f1']:>7.3f}{row['support']:>6}{row['predicted']:>6}")
    return lines
