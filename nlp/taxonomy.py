"""The taxonomy as data: reason, script-point and violation codes, their names, cues and examples.

Loaded from YAML or JSON (``callscope/data/taxonomy.yaml`` by default; the corpus's
``taxonomy.json`` loads too). Loading checks everything at once and fails with a
``TaxonomyError`` naming the file and the entry: a duplicate code, a code that is not an
identifier, a bad cue regex, an unknown section or field. Nothing half-loaded is returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from nlp.text import sound_cues

DEFAULT_TAXONOMY = Path(__file__).resolve().parent.parent / "callscope" / "data" / "taxonomy.yaml"
_SECTIONS = {"reasons", "script_points", "qa_violations", "competitor_dimensions", "lead_intents"}
_CODE_FIELDS = {"name", "def", "cues", "examples", "industries", "excludes", "precedes", "after", "min_score",
                "default", "outbound", "follow_up"}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """A taxonomy file or a label that does not fit it; the message names the file and entry."""


@dataclass(frozen=True, slots=True)
class Code:
    """One code: its id, Chinese name, definition, cue patterns and example sentences."""

    code: str
    name: str = ""
    definition: str = ""
    cues: tuple[re.Pattern[str], ...] = ()
    examples: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    sound_cues: tuple[tuple[int, str], ...] = ()   # (index in cues, loose pinyin) of plain cues of 3+ characters
    excludes: tuple[str, ...] = ()   # codes of the same section this one rules out when both are found
    after: tuple[re.Pattern[str], ...] = ()   # script points: cues in the customer turn just before
    min_score: float = 0.0   # reasons: the probability the code needs beyond the model's own threshold
    default: bool = False    # reasons: the reason of a call in which nothing names any reason
    precedes: tuple[str, ...] = ()   # reasons: found together with one of these, this one is the primary
    outbound: bool = False   # reasons: what an outbound sales call is about for the customer (the offer)
    follow_up: tuple[re.Pattern[str], ...] = ()   # outbound reason: an agent opening on the customer's own case

    def applies_to(self, industry: str | None) -> bool:
        """Whether the code can occur in a call of this industry (unknown industry: always)."""
        return not self.industries or not industry or industry in self.industries

    def cue_hits(self, text: str) -> list[re.Match[str]]:
        """Every cue that occurs in ``text`` (first occurrence of each)."""
        return [m for m in (cue.search(text) for cue in self.cues) if m]

    def sound_hits(self, sounds: str, literal: set[int]) -> int:
        """Plain cues of three or more characters heard in ``sounds`` (a ``sound_key``) that
        were not already found literally (indexes in ``literal``): ASR slips keep the sound."""
        return sum(1 for index, key in self.sound_cues if index not in literal and key in sounds)


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """All codes, by section, in file order."""

    reasons: dict[str, Code]
    script_points: dict[str, Code]
    qa_violations: dict[str, Code]
    competitor_dimensions: tuple[str, ...] = ("price", "product", "service", "network")
    lead_intents: tuple[str, ...] = ("none", "low", "medium", "high")
    source: str = field(default="", compare=False)

    @property
    def default_reason(self) -> str | None:
        """The reason marked ``default: true``, if any: what a call is about when nothing names a reason."""
        return next((code for code, body in self.reasons.items() if body.default), None)

    @property
    def outbound_reason(self) -> str | None:
        """The reason marked ``outbound: true``, if any: what an outbound sales call is about (the offer)."""
        return next((code for code, body in self.reasons.items() if body.outbound), None)

    @property
    def follow_up_cues(self) -> tuple[re.Pattern[str], ...]:
        """The outbound reason's ``follow_up`` cues: how an agent calling about the customer's own case
        opens (您前天报修的宽带……给您做个回访)."""
        offer = self.outbound_reason
        return self.reasons[offer].follow_up if offer else ()

    def check(self, section: str, code: str, where: str) -> None:
        """Raise ``TaxonomyError`` if ``code`` is not defined in ``section`` (where: who used it)."""
        known = getattr(self, section)
        if code not in known:
            raise TaxonomyError(
                f"{where}: unknown {section} code {code!r} (not in {self.source}); "
                f"known: {', '.join(known)}"
            )


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that refuses a key defined twice in one mapping (PyYAML keeps the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise TaxonomyError(
                f"line {key_node.start_mark.line + 1}: {key!r} is defined twice "
                f"(first on line {seen[key]})"
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (default: the bundled one)."""
    return _load(str(Path(path).resolve()) if path else str(DEFAULT_TAXONOMY))


@lru_cache(maxsize=8)
def _load(path: str) -> Taxonomy:
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy ({exc})") from exc
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{path}: a taxonomy is a mapping of sections ({', '.join(sorted(_SECTIONS))})")
    unknown = set(raw) - _SECTIONS
    if unknown:
        raise TaxonomyError(f"{path}: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    for needed in ("reasons", "script_points"):
        if not raw.get(needed):
            raise TaxonomyError(f"{path}: section {needed!r} is missing or empty")
    sections = {s: _codes(path, s, raw.get(s) or {}) for s in ("reasons", "script_points", "qa_violations")}
    lists = {s: _names(path, s, raw[s]) for s in ("competitor_dimensions", "lead_intents") if s in raw}
    seen: dict[str, str] = {}
    for section, codes in sections.items():
        for code in codes:
            if code in seen:
                raise TaxonomyError(f"{path}: code {code!r} is defined in both {seen[code]} and {section}")
            seen[code] = section
    return Taxonomy(**sections, **lists, source=path)


def _codes(path: str, section: str, entries: Any) -> dict[str, Code]:
    if not isinstance(entries, dict):
        raise TaxonomyError(f"{path}: section {section!r} must map codes to their definitions")
    codes = {code: _code(f"{path}: {section}.{code}", code, body) for code, body in entries.items()}
    for code in codes.values():
        for name, value in (("min_score", code.min_score), ("default", code.default), ("outbound", code.outbound),
                            ("precedes", code.precedes), ("follow_up", code.follow_up)):
            if value and section != "reasons":
                raise TaxonomyError(f"{path}: {section}.{code.code}.{name}: only reasons take {name}")
    for flag in ("default", "outbound"):
        marked = [code.code for code in codes.values() if getattr(code, flag)]
        if len(marked) > 1:
            raise TaxonomyError(f"{path}: {section}: only one code can be the {flag} ({', '.join(marked)} all are)")
    for code in codes.values():
        if code.follow_up and not code.outbound:
            raise TaxonomyError(f"{path}: {section}.{code.code}.follow_up: only the outbound reason takes follow_up")
    for code in codes.values():
        for name, others in (("excludes", code.excludes), ("precedes", code.precedes)):
            for other in others:
                if other not in codes or other == code.code:
                    raise TaxonomyError(f"{path}: {section}.{code.code}.{name}: {other!r} is not another "
                                        f"code of {section}")
    return codes


def _code(where: str, code: Any, body: Any) -> Code:
    if not isinstance(code, str) or not _CODE.match(code):
        raise TaxonomyError(f"{where}: a code is a lower-case identifier (letters, digits, _)")
    if not isinstance(body, dict):
        raise TaxonomyError(f"{where}: expected a mapping with name/def/cues/examples")
    extra = set(body) - _CODE_FIELDS
    if extra:
        raise TaxonomyError(f"{where}: unknown field(s) {', '.join(sorted(map(str, extra)))}; "
                            f"allowed: {', '.join(sorted(_CODE_FIELDS))}")
    for key in ("cues", "examples", "industries", "excludes", "precedes", "after", "follow_up"):
        items = body.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise TaxonomyError(f"{where}.{key}: expected a list of non-empty strings")
    min_score = body.get("min_score", 0.0)
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0.0 <= min_score <= 1.0:
        raise TaxonomyError(f"{where}.min_score: expected a probability between 0 and 1")
    for flag in ("default", "outbound"):
        if not isinstance(body.get(flag, False), bool):
            raise TaxonomyError(f"{where}.{flag}: expected true or false")
    cues = body.get("cues", [])
    return Code(code, str(body.get("name", "")), str(body.get("def", "")),
                tuple(_cue(where, c) for c in cues), tuple(body.get("examples", [])),
                tuple(body.get("industries", [])),
                sound_cues(cues), tuple(body.get("excludes", [])),
                tuple(_cue(where, c, "after") for c in body.get("after", [])), float(min_score),
                body.get("default", False), tuple(body.get("precedes", [])), body.get("outbound", False),
                tuple(_cue(where, c, "follow_up") for c in body.get("follow_up", [])))


def compile_cue(cue: str) -> re.Pattern[str]:
    """A cue phrase as a pattern: ``re:...`` is a regular expression, anything else literal text."""
    return re.compile(cue[3:]) if cue.startswith("re:") else re.compile(re.escape(cue))


def _cue(where: str, cue: str, field: str = "cues") -> re.Pattern[str]:
    try:
        return compile_cue(cue)
    except re.error as exc:
        raise TaxonomyError(f"{where}.{field}: bad regular expression {cue[3:]!r} ({exc})") from None


def _names(path: str, section: str, items: Any) -> tuple[str, ...]:
    if not isinstance(items, list) or not all(isinstance(i, str) and _CODE.match(i) for i in items):
        raise TaxonomyError(f"{path}: {section} must be a list of lower-case identifiers")
    if len(set(items)) != len(items):
        raise TaxonomyError(f"{path}: {section} lists a value twice")
    return tuple(items)
