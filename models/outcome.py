"""How a call ended (resolved / unresolved / escalated; success / refused / callback), from its transcript.

Reports need an outcome even when the business system gives none. ``OutcomeCues`` reads it from
cue phrases near the end of the call (``patterns/outcome.yaml``, edited by the customer);
``OutcomeModel`` is a per-direction logistic regression over the last turns' character n-grams
and those cue scores, learned from labelled calls. ``predict_outcome`` takes either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from models.corpus import LabelledCall
from models.features import text_vectorizer
from models.folds import fold_groups
from models.store import ModelError
from nlp.text import normalise

LABELS: dict[str, tuple[str, ...]] = {
    "inbound": ("resolved", "unresolved", "escalated"),
    "outbound": ("success", "refused", "callback"),
}
ROLES = ("customer", "agent", "any")
NEGATIONS = "不没别未无"
DEFAULT_CUES = Path(__file__).resolve().parent / "patterns" / "outcome.yaml"
OUTCOME_FILE = "outcome.joblib"
FORMAT = 1
# the trained model reads this many last turns; cue scores enter beside the n-grams at this scale
LAST_TURNS = 8
CUE_FEATURE_SCALE = 0.5

TurnLike = Any  # a dict with "role"/"text", or an object with .role/.text (Turn, TurnText)


@dataclass(frozen=True, slots=True)
class CueGroup:
    """Cue phrases for one label, said by one party, searched in the last ``window`` turns."""

    label: str
    role: str
    weight: float
    window: int
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class OutcomeCues:
    """The untrained predictor: weighted cue groups and a default label per direction."""

    defaults: dict[str, str]
    groups: dict[str, tuple[CueGroup, ...]]
    source: str = ""

    def scores(self, turns: Sequence[TurnLike], direction: str) -> dict[str, float]:
        """Summed weight of the cues found near the end of the call, per label of the direction."""
        said = role_texts(turns)
        totals = dict.fromkeys(_labels(direction), 0.0)
        for group in self.groups[direction]:
            for role, text in said[-group.window:]:
                if group.role in ("any", role):
                    totals[group.label] += group.weight * sum(1 for p in group.patterns if p.search(text))
        return totals

    def predict(self, turns: Sequence[TurnLike], direction: str) -> tuple[str, float]:
        """The label with the most cue weight (the default when none is found) and its share of it.

        The share counts one pseudo-cue per label, so a single weak cue is not reported as certain.
        """
        totals = self.scores(turns, direction)
        best = max(totals.values())
        label = self.defaults[direction]
        if best > 0 and totals[label] < best:
            label = next(name for name, value in totals.items() if value == best)
        return label, (totals[label] + 1.0) / (sum(totals.values()) + len(totals))


@lru_cache(maxsize=4)
def load_outcome_cues(path: str | None = None) -> OutcomeCues:
    """Read the outcome cue file; a ValueError names the file and the entry at fault."""
    source = path or str(DEFAULT_CUES)
    try:
        raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{source}: cannot read outcome cues ({exc})") from None
    if not isinstance(raw, dict):
        # a bad data file is a ValueError throughout, whatever is wrong with it
        raise ValueError(f"{source}: expected a mapping with window, inbound and outbound")
    window = _positive_int(raw.get("window", 6), f"{source}: window")
    unknown = set(raw) - {"window", *LABELS}
    if unknown:
        raise ValueError(f"{source}: unknown section(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"expected window, {', '.join(LABELS)}")
    defaults, groups = {}, {}
    for direction, labels in LABELS.items():
        where = f"{source}: {direction}"
        entry = raw.get(direction)
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: missing, or not a mapping of default and labels")
        defaults[direction] = entry.get("default")
        if defaults[direction] not in labels:
            raise ValueError(f"{where}.default: {defaults[direction]!r} is not one of the {direction} outcomes "
                             f"({', '.join(labels)})")
        found = []
        for label, items in entry.items():
            if label == "default":
                continue
            if label not in labels:
                raise ValueError(f"{where}.{label}: {label!r} is not one of the {direction} outcomes "
                                 f"({', '.join(labels)})")
            if not isinstance(items, list):
                raise ValueError(f"{where}.{label}: expected a list of cue groups")
            found += [_group(label, item, window, f"{where}.{label}[{i}]") for i, item in enumerate(items)]
        groups[direction] = tuple(found)
    return OutcomeCues(defaults, groups, source)


def _group(label: str, item: Any, window: int, where: str) -> CueGroup:
    """One cue group of the YAML file, checked."""
    if not isinstance(item, dict) or not isinstance(item.get("cues"), list) or not item["cues"]:
        raise ValueError(f"{where}: expected a mapping with a non-empty list of cues (and role, weight, window)")
    unknown = set(item) - {"cues", "role", "weight", "window"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    role = item.get("role", "any")
    if role not in ROLES:
        raise ValueError(f"{where}.role: {role!r} is not one of {', '.join(ROLES)}")
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ValueError(f"{where}.weight: {weight!r} is not a number")
    patterns = tuple(_cue(cue, f"{where}.cues[{i}]") for i, cue in enumerate(item["cues"]))
    return CueGroup(label, role, float(weight), _positive_int(item.get("window", window), f"{where}.window"),
                    patterns)


def _cue(cue: Any, where: str) -> re.Pattern[str]:
    """A cue as a pattern: ``re:...`` as written, plain text not counted straight after a negation."""
    if not isinstance(cue, str) or not cue.strip() or cue == "re:":
        raise ValueError(f"{where}: {cue!r} is not a cue phrase")
    if not cue.startswith("re:"):
        return re.compile(f"(?<![{NEGATIONS}]){re.escape(normalise(cue))}")
    try:
        return re.compile(cue[3:])
    except re.error as exc:
        raise ValueError(f"{where}: bad regular expression {cue[3:]!r} ({exc})") from None


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: {value!r} is not a whole number of turns (1 or more)")
    return value


def _labels(direction: str) -> tuple[str, ...]:
    if direction not in LABELS:
        raise ValueError(f"direction {direction!r} is not one of {', '.join(LABELS)}")
    return LABELS[direction]


def role_texts(turns: Iterable[TurnLike]) -> list[tuple[str, str]]:
    """(role, normalised text) of each turn, from dicts or turn objects alike."""
    out = []
    for turn in turns:
        role, text = (turn.get("role"), turn.get("text")) if isinstance(turn, dict) else (turn.role, turn.text)
        out.append((str(role), normalise(text or "")))
    return out


@dataclass
class OutcomeModel:
    """Per-direction logistic regressions over the last turns, with the cues they were trained with.

    A direction without a head (no training calls) is answered by the cues; one with a single
    label in training always gives that label.
    """

    cues: OutcomeCues
    vectorizer: TfidfVectorizer
    heads: dict[str, LogisticRegression | str]
    last_turns: int = LAST_TURNS

    def features(self, turns: Sequence[TurnLike], direction: str) -> sparse.csr_matrix:
        """One row: n-grams of what the customer and the agent said in the last turns, and cue scores."""
        said = role_texts(turns)[-self.last_turns:]
        blocks = [" ".join(text for role, text in said if role == who) for who in ("customer", "agent")]
        cues = np.array([list(self.cues.scores(turns, direction).values())]) * CUE_FEATURE_SCALE
        return sparse.hstack([self.vectorizer.transform(blocks[:1]), self.vectorizer.transform(blocks[1:]),
                              sparse.csr_matrix(cues)]).tocsr()

    def predict(self, turns: Sequence[TurnLike], direction: str) -> tuple[str, float]:
        """The most probable label and its probability."""
        _labels(direction)
        head = self.heads.get(direction)
        if head is None:
            return self.cues.predict(turns, direction)
        if isinstance(head, str):
            return head, 1.0
        probs = head.predict_proba(self.features(turns, direction))[0]
        best = int(np.argmax(probs))
        return str(head.classes_[best]), float(probs[best])


def fit_outcome(conversations_texts: Sequence[Sequence[TurnLike]], labels: Sequence[str], directions: Sequence[str],
                *, cues: OutcomeCues | None = None, last_turns: int = LAST_TURNS) -> OutcomeModel:
    """Learn one head per direction from calls (each a list of turns), their outcome labels and directions."""
    if not len(conversations_texts) == len(labels) == len(directions):
        raise ValueError("fit_outcome needs as many labels and directions as calls")
    for i, (label, direction) in enumerate(zip(labels, directions, strict=True)):
        if label not in _labels(direction):
            raise ValueError(f"call {i}: outcome {label!r} is not one of the {direction} outcomes "
                             f"({', '.join(LABELS[direction])})")
    vectorizer = text_vectorizer()
    texts = [text for turns in conversations_texts for _, text in role_texts(turns)[-last_turns:]]
    if len(texts) < 2:
        raise ValueError("fit_outcome needs at least two turns of text")
    # an n-gram must occur twice to count, except in tiny training sets where that leaves nothing
    vectorizer.set_params(min_df=1 if len(conversations_texts) < 20 else 2)
    vectorizer.fit(texts)
    vectorizer.stop_words_ = None  # only for introspection, and most of the pickle's size
    model = OutcomeModel(cues or load_outcome_cues(None), vectorizer, {}, last_turns)
    for direction in LABELS:
        rows = [i for i, d in enumerate(directions) if d == direction]
        seen = sorted({labels[i] for i in rows})
        if len(seen) == 1:
            model.heads[direction] = seen[0]
        elif seen:
            x = sparse.vstack([model.features(conversations_texts[i], direction) for i in rows])
            head = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")
            model.heads[direction] = head.fit(x, [labels[i] for i in rows])
    return model


def predict_outcome(model_or_cues: OutcomeModel | OutcomeCues, turns: Sequence[TurnLike],
                    direction: str) -> tuple[str, float]:
    """(label, probability) of how a call ended, from a trained model or from the cues alone."""
    return model_or_cues.predict(turns, direction)


def outcome_examples(calls: Sequence[LabelledCall]) -> tuple[list[list[Any]], list[str], list[str]]:
    """Turns, outcome labels and directions of the labelled calls that have an outcome label."""
    turns, labels, directions = [], [], []
    for call in calls:
        label = call.labels.get("outcome")
        if label is None:
            continue
        turns.append(list(call.conversation.turns))
        labels.append(label)
        directions.append(call.conversation.extra.get("direction", ""))
    return turns, labels, directions


def cross_validate_outcome(calls: Sequence[LabelledCall], folds: int = 5, *, seed: int = 0,
                           cues: OutcomeCues | None = None) -> dict[str, dict[str, Any]]:
    """Per direction: accuracy and macro-F1 of the trained model on unseen folds, and of the cues.

    Folds are stratified by label within each direction (``models.folds``: labels too rare for every
    fold are pooled, which can lower the number of folds, reported as ``folds``); a direction with
    fewer than two calls is left out.
    """
    cues = cues or load_outcome_cues(None)
    turns, labels, directions = outcome_examples(calls)
    out = {}
    for direction, names in LABELS.items():
        rows = [i for i, d in enumerate(directions) if d == direction]
        if len(rows) < 2:
            continue
        gold = [labels[i] for i in rows]
        groups, k = fold_groups(gold, folds)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        trained = [""] * len(rows)
        for train, test in splitter.split(rows, groups):
            model = fit_outcome([turns[rows[i]] for i in train], [gold[i] for i in train], [direction] * len(train),
                                cues=cues)
            for i in test:
                trained[i] = model.predict(turns[rows[i]], direction)[0]
        untrained = [cues.predict(turns[i], direction)[0] for i in rows]
        out[direction] = {"calls": len(rows), "folds": k,
                          "trained_cv": _metrics(gold, trained, names), "untrained": _metrics(gold, untrained, names)}
    return out


def _metrics(gold: list[str], predicted: list[str], names: tuple[str, ...]) -> dict[str, float]:
    return {"accuracy": round(float(accuracy_score(gold, predicted)), 4),
            "macro_f1": round(float(f1_score(gold, predicted, labels=list(names), average="macro",
                                             zero_division=0)), 4)}


def save_outcome(model: OutcomeModel, folder: str | Path) -> Path:
    """Write ``folder/outcome.joblib`` (beside a scorer's files) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / OUTCOME_FILE
    joblib.dump({"format": FORMAT, "scikit_learn": sklearn.__version__, "model": model}, path, compress=3)
    return path


def load_outcome(folder: str | Path) -> OutcomeModel:
    """Read ``folder/outcome.joblib`` written by ``save_outcome``; a ModelError says what is wrong."""
    path = Path(folder) / OUTCOME_FILE
    try:
        saved = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - a missing or damaged pickle can raise nearly anything
        raise ModelError(f"{path}: cannot load the outcome model ({exc})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ModelError(f"{path}: not an outcome model of format {FORMAT}; train it again")
    if saved.get("scikit_learn") != sklearn.__version__:
        raise ModelError(f"{path}: trained with scikit-learn {saved.get('scikit_learn')}, "
                         f"this is {sklearn.__version__}; train it again")
    return saved["model"]
