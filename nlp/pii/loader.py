"""Build PII recognizers from the pattern file, checking every entry as it goes.

Each recognizer type (number, tail, address, name) has a builder that reads only the keys it knows;
an unknown key, kind, check or operator, a bad regex or an out-of-range score raises a ValueError
that names the file and the entry (``pii.yaml: recognizers[4] (bank_card): bad regex ...``). The
``validate`` checks a number pattern may name live here too (GB 11643, Luhn, mobile prefix).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from nlp.pii.recognizers import (
    Context,
    NumberRecognizer,
    NumberSyntax,
    Recognizer,
    TailRecognizer,
    alternation,
)
from nlp.pii.words import AddressRecognizer, NameRecognizer

KINDS = ("phone", "id_card", "bank_card", "address", "name")
PROVINCES = frozenset(f"{n}" for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
                                          44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82))
MOBILE = re.compile(r"1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])")
_MISSING: Any = object()


def gb11643(digits: str) -> bool | None:
    """18-character resident id: province code and the GB 11643 check character."""
    if len(digits) != 18 or not digits[:17].isdigit():
        return None
    if digits[:2] not in PROVINCES:
        return False
    total = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    return "10X98765432"[total % 11] == digits[17]


def id15(digits: str) -> bool | None:
    """Old 15-digit id: False unless it starts with a province code (it has no checksum)."""
    return None if digits[:2] in PROVINCES else False


def luhn(digits: str) -> bool | None:
    """Bank card: True when the Luhn check holds; a failed check gives no verdict (cards vary)."""
    if not digits.isdigit():
        return None
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return True if total % 10 == 0 else None


def mobile_prefix(digits: str) -> bool | None:
    """Mobile number: True when its first three digits are an allocated mainland prefix."""
    return True if MOBILE.match(digits[2:] if len(digits) == 13 else digits) else None


VALIDATORS: dict[str, Callable[[str], bool | None]] = {
    "gb11643": gb11643, "id15": id15, "luhn": luhn, "mobile_prefix": mobile_prefix}


class Section:
    """Typed reads from one mapping of the YAML file; errors name the file and the entry."""

    def __init__(self, source: str, where: str, data: Any, allowed: set[str] | None) -> None:
        self.source, self.where = source, where
        if not isinstance(data, dict):
            raise self.error("must be a mapping")
        unknown = sorted(set(data) - allowed) if allowed is not None else []
        if unknown:
            raise self.error(f"unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed))}")
        self.data = data

    def error(self, message: str) -> ValueError:
        """A ValueError naming the file and this entry."""
        return ValueError(f"{self.source}: {self.where}: {message}")

    def child(self, where: str, data: Any, allowed: set[str] | None) -> Section:
        """A nested mapping, named ``where``."""
        return Section(self.source, where, data, allowed)

    def get(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        """The value of ``key``, checked to be of ``kind`` (ints pass as floats)."""
        if key not in self.data:
            if default is _MISSING:
                raise self.error(f"{key!r} is missing")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(f"{key!r} must be a {kind.__name__}, not {value!r}")
        return value

    def score(self, key: str, default: Any = _MISSING) -> Any:
        """A number in [0, 1]."""
        value = self.get(key, float, default)
        if value is not None and not 0.0 <= value <= 1.0:
            raise self.error(f"{key!r} must be between 0 and 1, not {value}")
        return value

    def words(self, key: str, default: Any = ()) -> list[str]:
        """A list of non-empty strings."""
        value = self.get(key, list, list(default))
        if not all(isinstance(w, str) and w for w in value):
            raise self.error(f"{key!r} must be a list of non-empty strings")
        return value

    def regex(self, text: str, label: str) -> re.Pattern[str]:
        """A compiled regex; a bad one is reported with its label."""
        try:
            return re.compile(text)
        except re.error as exc:
            raise self.error(f"bad regex {label} {text!r}: {exc}") from None

    def kind(self, value: str) -> str:
        """A known PII kind."""
        if value not in KINDS:
            raise self.error(f"unknown kind {value!r}; expected one of {', '.join(KINDS)}")
        return value


def read_section(source: str, where: str, data: Any, allowed: set[str]) -> Section:
    """The top-level mapping of a pattern file."""
    return Section(source, where, data, allowed)


def build_recognizers(top: Section) -> tuple[NumberSyntax, tuple[Recognizer, ...]]:
    """The number syntax and every recognizer of the file, in file order."""
    raw = top.child("numbers", top.get("numbers", dict),
                    {"digits", "separators", "fillers", "max_gap", "units"})
    digits = raw.get("digits", dict)
    if not all(isinstance(k, str) and len(k) == 1 and str(v) in "0123456789" for k, v in digits.items()):
        raise raw.error("'digits' must map single characters to one digit 0-9")
    numbers = NumberSyntax.build(digits={k: str(v) for k, v in digits.items()},
                                 separators=raw.get("separators", str, ""), fillers=raw.words("fillers"),
                                 max_gap=raw.get("max_gap", int, 3), units=raw.get("units", str, ""))
    window = top.get("context_window", dict, {"before": 12, "after": 6})
    base = Context(boost=top.score("context_boost", 0.35), before=int(window.get("before", 12)),
                   after=int(window.get("after", 6)))
    out = []
    for i, data in enumerate(top.get("recognizers", list)):
        label = f"recognizers[{i}]" + (f" ({data.get('name')})" if isinstance(data, dict) else "")
        kind = data.get("type") if isinstance(data, dict) else None
        if kind not in BUILDERS:
            raise top.error(f"{label}: unknown type {kind!r}; expected one of {', '.join(BUILDERS)}")
        keys, build = BUILDERS[kind]
        out.append(build(top.child(label, data, keys | {"name", "type"}), numbers, base))
    if not out:
        raise top.error("'recognizers' is empty")
    return numbers, tuple(out)


def _context(entry: Section, base: Context) -> Context:
    words, negative = entry.words("context"), entry.words("negative_context")
    return Context(words=alternation(words) if words else None,
                   negative=alternation(negative) if negative else None,
                   boost=base.boost, before=base.before, after=base.after)


def _number(entry: Section, numbers: NumberSyntax, base: Context) -> Recognizer:
    patterns = []
    for j, raw in enumerate(entry.get("patterns", list)):
        sub = entry.child(f"{entry.where}: patterns[{j}]", raw, {"name", "regex", "score"})
        patterns.append((sub.get("name", str, f"p{j}"),
                         sub.regex(sub.get("regex", str), sub.get("name", str, f"p{j}")), sub.score("score")))
    if not patterns:
        raise entry.error("'patterns' is empty")
    check = entry.get("validate", str, None)
    if check is not None and check not in VALIDATORS:
        raise entry.error(f"unknown validate {check!r}; available: {', '.join(VALIDATORS)}")
    return NumberRecognizer(name=entry.get("name", str), kind=entry.kind(entry.get("kind", str)),
                            patterns=patterns, numbers=numbers, validator=VALIDATORS.get(check or ""),
                            validated_score=entry.score("validated_score", None),
                            invalid_score=entry.score("invalid_score", None),
                            context=_context(entry, base))


def _tail(entry: Section, numbers: NumberSyntax, base: Context) -> Recognizer:
    cues = [entry.regex(c, "in cues") for c in entry.words("cues")]
    kinds = entry.child(f"{entry.where}: kinds", entry.get("kinds", dict), None)
    kind_words = {w: entry.kind(k) for k in kinds.data for w in kinds.words(k)}
    if not cues or not kind_words:
        raise entry.error("'cues' and 'kinds' must not be empty")
    return TailRecognizer(name=entry.get("name", str), cues=re.compile("|".join(c.pattern for c in cues)),
                          kind_words=kind_words, default_kind=entry.kind(entry.get("default_kind", str)),
                          max_gap=entry.get("max_gap", int, 12), score=entry.score("score"),
                          answer_score=entry.score("answer_score"), numbers=numbers)


def _address(entry: Section, numbers: NumberSyntax, base: Context) -> Recognizer:
    entry.kind(entry.get("kind", str, "address"))
    suffixes = {}
    for j, raw in enumerate(entry.get("suffixes", list)):
        sub = entry.child(f"{entry.where}: suffixes[{j}]", raw, {"score", "words"})
        suffixes.update(dict.fromkeys(sub.words("words"), sub.score("score")))
    digit = "[" + re.escape(numbers.chars) + "]"
    num = "[" + re.escape(numbers.chars + "十百千两") + "]"
    units = []
    for j, raw in enumerate(entry.get("units", list)):
        sub = entry.child(f"{entry.where}: units[{j}]", raw, {"score", "regex"})
        text = sub.get("regex", str).replace("{num}", num).replace("{digit}", digit)
        units.append((sub.regex(text, f"units[{j}]"), sub.score("score")))
    places = entry.child(f"{entry.where}: places", entry.get("places", dict, {}), {"score", "words"})
    return AddressRecognizer(
        name=entry.get("name", str), suffixes=suffixes, units=units, places=places.words("words"),
        place_score=places.score("score", 0.35), stop_chars=entry.get("stop_chars", str, ""),
        open_after=entry.get("open_after", str, ""),
        connectors=entry.regex(f"(?:{entry.get('connectors', str)})+", "connectors"),
        max_connector_chars=entry.get("max_connector_chars", int, 6),
        negative_after=entry.words("negative_after"), numbers=numbers, context=_context(entry, base))


def _name(entry: Section, numbers: NumberSyntax, base: Context) -> Recognizer:
    entry.kind(entry.get("kind", str, "name"))

    def cues(key: str) -> re.Pattern[str] | None:
        words = entry.words(key)
        return re.compile(f"(?:{alternation(words).pattern})[:：\\s]?") if words else None

    surname_cues = [entry.regex(c, "in surname_cues") for c in entry.words("surname_cues")]
    return NameRecognizer(
        name=entry.get("name", str), surnames=entry.get("surnames", str),
        compound_surnames=entry.words("compound_surnames"),
        cues=cues("cues") or re.compile(r"(?!)"), self_cues=cues("self_cues"),
        strict_self_cues=cues("strict_self_cues"),
        surname_cues=re.compile("|".join(c.pattern for c in surname_cues)) if surname_cues else None,
        titles=alternation(entry.words("titles") or ["先生"]),
        asks=alternation(entry.words("asks")) if entry.words("asks") else None,
        given_stop=entry.get("given_stop", str, ""), deny=entry.words("deny"),
        scores={k: entry.score(f"{k}_score", d) for k, d in (("cue", 0.85), ("title", 0.8), ("answer", 0.7))},
        common_word=(entry.get("common_word_freq", int, 1000),
                     entry.get("strict_common_word_freq", int, 100)),
        numbers=numbers)


BUILDERS: dict[str, tuple[set[str], Callable[[Section, NumberSyntax, Context], Recognizer]]] = {
    "number": ({"kind", "patterns", "validate", "validated_score", "invalid_score", "context",
                "negative_context"}, _number),
    "tail": ({"cues", "kinds", "default_kind", "max_gap", "score", "answer_score"}, _tail),
    "address": ({"kind", "suffixes", "units", "places", "stop_chars", "open_after", "connectors",
                 "max_connector_chars", "context", "negative_after"}, _address),
    "name": ({"kind", "surnames", "compound_surnames", "cues", "self_cues", "strict_self_cues",
              "surname_cues", "titles",
              "asks", "given_stop", "deny", "cue_score", "title_score", "answer_score", "common_word_freq",
              "strict_common_word_freq"}, _name),
}
