"""Complaint risk (投诉预测): the chance that a call's customer files a formal complaint, and why.

Each signal (repeat call, past complaints, a threat to go to 工信部, anger, an unresolved issue,
IVR loops, agitation, overtalk, a service-taboo QA finding...) is read off the analysis as a value
that is 0 when nothing is wrong. The score is a logistic model over those values, so each signal's
share of it (weight x value) says in words what drives the risk. Default weights come from
``models/patterns/risk.yaml``; ``fit_risk`` learns them from calls labelled ``complained_later``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RISK = Path(__file__).resolve().parent / "patterns" / "risk.yaml"
RISK_FILE = "risk.json"  # a trained risk model inside a model folder


class RiskError(ValueError):
    """A risk settings file or model that cannot be used; names the file and the entry."""


@dataclass(slots=True)
class Signal:
    """One risk signal: its weight and cap, and the words that explain and answer it."""

    name: str
    weight: float
    cap: float
    driver: tuple[str, str]
    action: tuple[str, str]


@dataclass(slots=True)
class RiskSettings:
    """The risk file: signals, intercept, and what counts as a threat, anger, taboo, agitation."""

    intercept: float
    signals: dict[str, Signal]
    threat_words: list[re.Pattern[str]]
    anger_below: float
    taboo_codes: frozenset[str]
    agitation_above: float
    top_n: int
    high_risk: float
    source: str = ""


@dataclass(slots=True)
class SignalValue:
    """A signal measured on one call: value (0 = fine) and detail for the words."""

    value: float
    detail: str = ""


@dataclass(slots=True)
class RiskModel:
    """Weights over the signals; ``kind`` says whether they are the defaults or learnt."""

    settings: RiskSettings
    weights: dict[str, float]
    intercept: float
    kind: str = "default"
    info: dict[str, Any] = field(default_factory=dict)

    def score(self, values: dict[str, SignalValue]) -> float:
        """Probability of a formal complaint, from measured signals."""
        z = self.intercept + sum(self.weights.get(n, 0.0) * v.value for n, v in values.items())
        return 1.0 / (1.0 + math.exp(-z))

    def contributions(self, values: dict[str, SignalValue]) -> list[tuple[str, float]]:
        """(signal, weight x value) of signals pushing the score up, largest first."""
        parts = [(n, self.weights.get(n, 0.0) * v.value) for n, v in values.items()]
        return sorted([p for p in parts if p[1] > 0], key=lambda p: -p[1])

    def assess(self, analysis: dict[str, Any], *, top: int = 3, lang: int = 1) -> dict[str, Any]:
        """The ``complaint_risk`` block of an analysis: score, drivers in words, suggested action."""
        values = measure_signals(analysis, self.settings)
        parts = self.contributions(values)[:top]
        drivers = [driver_text(self.settings.signals[n], values[n], lang) for n, _ in parts]
        actions = [self.settings.signals[n].action[lang] for n, _ in parts if self.settings.signals[n].action[lang]]
        return {"score": round(self.score(values), 3), "drivers": drivers,
                "drivers_zh": [driver_text(self.settings.signals[n], values[n], 0) for n, _ in parts],
                "action": actions[0] if actions else "", "model": self.kind,
                "signals": {n: round(v.value, 3) for n, v in values.items() if v.value}}


def driver_text(signal: Signal, value: SignalValue, lang: int) -> str:
    """The driver sentence of a signal with its value and detail filled in."""
    shown = int(value.value) if float(value.value).is_integer() else round(value.value, 2)
    return signal.driver[lang].format(value=shown, detail=value.detail)


def load_risk_settings(path: str | Path | None = None) -> RiskSettings:
    """Read and check a risk YAML file (default: the bundled one); ``RiskError`` names the entry."""
    path = Path(path) if path else DEFAULT_RISK
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RiskError(f"{path}: cannot read ({exc})") from None
    if not isinstance(raw, dict):
        raise RiskError(f"{path}: expected a mapping at the top")
    known = {"intercept", "signals", "threat_words", "anger_below", "taboo_codes", "agitation_above",
             "top_n", "high_risk"}
    unknown = set(raw) - known
    if unknown:
        raise RiskError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    signals = {}
    for name, entry in (raw.get("signals") or {}).items():
        where = f"{path}: signals.{name}"
        if name not in SIGNALS:
            raise RiskError(f"{where}: no such signal (known: {', '.join(SIGNALS)})")
        if not isinstance(entry, dict) or set(entry) - {"weight", "cap", "driver", "action"}:
            raise RiskError(f"{where}: expected weight, cap, driver, action")
        try:
            weight, cap = float(entry["weight"]), float(entry.get("cap", 1))
        except (KeyError, TypeError, ValueError):
            raise RiskError(f"{where}: weight and cap must be numbers") from None
        pairs = []
        for key in ("driver", "action"):
            pair = entry.get(key, ["", ""])
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair)):
                raise RiskError(f"{where}.{key}: expected [Chinese, English] text")
            pairs.append(tuple(pair))
        signals[name] = Signal(name, weight, cap, pairs[0], pairs[1])
    words = []
    for i, word in enumerate(raw.get("threat_words") or []):
        word = str(word)
        try:
            words.append(re.compile(word[3:]) if word.startswith("re:") else re.compile(re.escape(word)))
        except re.error as exc:
            raise RiskError(f"{path}: threat_words[{i}]: bad regular expression ({exc})") from None
    try:
        return RiskSettings(
            intercept=float(raw.get("intercept", -4.0)), signals=signals, threat_words=words,
            anger_below=float(raw.get("anger_below", -0.3)), taboo_codes=frozenset(raw.get("taboo_codes") or []),
            agitation_above=float(raw.get("agitation_above", 0.5)), top_n=int(raw.get("top_n", 20)),
            high_risk=float(raw.get("high_risk", 0.5)), source=str(path))
    except (TypeError, ValueError) as exc:
        raise RiskError(f"{path}: {exc}") from None


def default_risk_model(path: str | Path | None = None) -> RiskModel:
    """The untrained model: the weights written in the risk file."""
    settings = load_risk_settings(path)
    return RiskModel(settings, {n: s.weight for n, s in settings.signals.items()}, settings.intercept)


# --- signals: each reads one thing off the analysis dict -------------------------------------------------

def _history(a: dict[str, Any], settings: RiskSettings) -> dict[str, SignalValue]:
    h = a.get("history") or {}
    return {"repeat_24h": SignalValue(1.0 if h.get("repeat_within_24h") else 0.0),
            "past_complaints": SignalValue(float(h.get("complaints_90d") or 0)),
            "contacts_30d": SignalValue(float(h.get("contacts_30d") or 0))}


def _path(a: dict[str, Any], settings: RiskSettings) -> dict[str, SignalValue]:
    steps = [s for s in (a.get("path") or []) if isinstance(s, dict)]
    loops = sum(1 for s in steps if s.get("result") == "repeat")
    seen: set = set()
    for s in steps:
        key = (s.get("channel"), s.get("node"))
        if key in seen and s.get("result") not in ("repeat", "transfer"):
            loops += 1
        seen.add(key)
    fails = sum(1 for s in steps if s.get("result") in ("fail", "timeout"))
    zero = 1.0 if steps and steps[0].get("result") == "transfer" else 0.0
    bot = 1.0 if any(s.get("channel") == "bot" for s in steps) and any(
        s.get("result") == "transfer" for s in steps) else 0.0
    return {"ivr_loop": SignalValue(float(loops)), "self_service_fail": SignalValue(float(fails)),
            "zero_out": SignalValue(zero), "bot_then_human": SignalValue(bot)}


def _said(a: dict[str, Any], settings: RiskSettings) -> dict[str, SignalValue]:
    customer = [t for t in a.get("turns") or [] if t.get("role") == "customer"]
    found: list[str] = []
    for turn in customer:
        for pattern in settings.threat_words:
            for m in pattern.finditer(turn.get("text", "")):
                if m.group(0) not in found:
                    found.append(m.group(0))
    mood = (a.get("sentiment") or {}).get("customer")
    anger = 0.0
    if isinstance(mood, int | float) and mood < settings.anger_below:
        anger = (settings.anger_below - mood) / (1.0 + settings.anger_below)
    outcome = a.get("outcome")
    label = outcome.get("label") if isinstance(outcome, dict) else outcome
    return {"threat": SignalValue(float(len(found)), "、".join(found[:3])),
            "anger": SignalValue(round(anger, 3), f"{mood:+.2f}" if isinstance(mood, int | float) else ""),
            "unresolved": SignalValue(1.0 if label == "unresolved" else 0.0),
            "escalated": SignalValue(1.0 if label == "escalated" else 0.0)}


def _voice(a: dict[str, Any], settings: RiskSettings) -> dict[str, SignalValue]:
    levels = [t["agitation"] for t in a.get("turns") or []
              if t.get("role") == "customer" and isinstance(t.get("agitation"), int | float)]
    peak = max(levels, default=0.0)
    over = [s for s in (a.get("acoustics") or {}).get("overlaps") or [] if s.get("who") == "agent"]
    return {"agitation": SignalValue(max(0.0, peak - settings.agitation_above), f"{peak:.1f}σ"),
            "overtalk": SignalValue(float(len(over)))}


def _quality(a: dict[str, Any], settings: RiskSettings) -> dict[str, SignalValue]:
    violations = (a.get("qa") or {}).get("violations") or []
    taboo = any(v.get("code") in settings.taboo_codes or v.get("rule") in settings.taboo_codes for v in violations)
    return {"qa_taboo": SignalValue(1.0 if taboo else 0.0), "qa_violations": SignalValue(float(len(violations)))}


READERS = (_history, _path, _said, _voice, _quality)
SIGNALS = ("repeat_24h", "past_complaints", "contacts_30d", "threat", "anger", "unresolved", "escalated",
           "ivr_loop", "self_service_fail", "zero_out", "bot_then_human", "agitation", "overtalk",
           "qa_taboo", "qa_violations")


def measure_signals(analysis: dict[str, Any], settings: RiskSettings) -> dict[str, SignalValue]:
    """Every signal the settings define, measured on one analysis and capped."""
    values: dict[str, SignalValue] = {}
    for read in READERS:
        values.update(read(analysis, settings))
    out = {}
    for name, signal in settings.signals.items():
        v = values.get(name, SignalValue(0.0))
        out[name] = SignalValue(min(max(v.value, 0.0), signal.cap), v.detail)
    return out


def signal_matrix(analyses: list[dict[str, Any]], settings: RiskSettings) -> tuple[list[str], list[list[float]]]:
    """Signal names and one row of values per analysis (the training design matrix)."""
    names = list(settings.signals)
    rows = []
    for a in analyses:
        values = measure_signals(a, settings)
        rows.append([values[n].value for n in names])
    return names, rows


def fit_risk(analyses: list[dict[str, Any]], complained: list[bool], *, settings: RiskSettings | None = None,
             c: float = 1.0) -> RiskModel:
    """Learn signal weights from analysed calls labelled with ``complained_later``.

    A logistic regression (L2, so 60 calls cannot push a weight to infinity); weights are kept
    non-negative in effect by clipping at 0: a signal of trouble never lowers risk, which keeps the
    drivers honest when a small sample says otherwise.
    """
    from sklearn.linear_model import LogisticRegression

    settings = settings or load_risk_settings()
    names, rows = signal_matrix(analyses, settings)
    if len(set(complained)) < 2:
        raise RiskError("training needs calls with and without a later complaint")
    scales = [settings.signals[n].cap or 1.0 for n in names]
    scaled = [[v / s for v, s in zip(row, scales, strict=True)] for row in rows]
    model = LogisticRegression(C=c, max_iter=2000).fit(scaled, [int(y) for y in complained])
    weights = {n: max(0.0, float(w) / s) for n, w, s in zip(names, model.coef_[0], scales, strict=True)}
    return RiskModel(settings, weights, float(model.intercept_[0]), kind="trained",
                     info={"calls": len(analyses), "complaints": int(sum(complained)), "C": c})


def save_risk(model: RiskModel, folder: str | Path) -> Path:
    """Write ``risk.json`` (weights, intercept, how trained) into a model folder."""
    path = Path(folder) / RISK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": 1, "kind": model.kind, "intercept": model.intercept,
                                "weights": model.weights, "info": model.info}, ensure_ascii=False, indent=1),
                    encoding="utf-8")
    return path


def load_risk(folder: str | Path | None, settings_path: str | Path | None = None) -> RiskModel:
    """The trained model in ``folder/risk.json`` if there is one, else the default weights."""
    settings = load_risk_settings(settings_path)
    path = Path(folder) / RISK_FILE if folder else None
    if path is None or not path.is_file():
        return default_risk_model(settings_path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        weights = {str(k): float(v) for k, v in raw["weights"].items()}
        intercept = float(raw["intercept"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RiskError(f"{path}: not a risk model ({exc})") from None
    unknown = set(weights) - set(settings.signals)
    if unknown:
        raise RiskError(f"{path}: weights for signals the risk file does not define: {', '.join(sorted(unknown))}")
    return RiskModel(settings, weights, intercept, kind="trained", info=raw.get("info", {}))
