"""The competitor lexicon (``nlp/patterns/competitors.yaml``) read into typed, validated data.

Brands, aliases, look-alike rules and dimension cue words are data the customer edits, so every
mistake in the file (an unknown dimension or industry, an alias claimed by two brands, a bad
regular expression, a wrong type) is a ``CompetitorPatternError`` naming the file and the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATTERNS = Path(__file__).resolve().parent.parent / "patterns" / "competitors.yaml"
DIMENSIONS: tuple[str, ...] = ("price", "product", "service", "network")
NUMBER_CLASS = "[0-9零〇一二两三四五六七八九十百千万亿点几]+"
_BRAND_KEYS = {"brand", "industry", "aliases", "products", "hotlines", "ambiguous", "reject", "in_industry"}


class CompetitorPatternError(ValueError):
    """A malformed competitor lexicon; the message names the file and the entry at fault."""


@dataclass(frozen=True, slots=True)
class Brand:
    """One company: canonical name, industry, the names it goes by and its look-alike rules."""

    name: str
    industry: str
    aliases: tuple[str, ...]
    products: tuple[str, ...] = ()
    hotlines: tuple[str, ...] = ()
    ambiguous: frozenset[str] = frozenset()
    reject: tuple[re.Pattern[str], ...] = ()
    in_industry: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CueGroup:
    """Words and patterns that say a mention is about one dimension, with how much they weigh."""

    dimension: str
    weight: float
    words: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True, slots=True)
class DimensionScoring:
    """How cues are weighed by distance, sentence, side of the mention, neighbouring turn and
    earlier mentions."""

    default: str = "product"
    decay_chars: float = 15.0
    boundary_penalty: float = 0.5
    before_penalty: float = 0.7
    neighbour: float = 0.4
    carry: float = 0.5
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SoundAlike:
    """What a name that only sounds close to a brand needs: a strong frame on one side (用的是 X,
    X 那边, X 的卡, 比 X), a word that is not too common (``max_word_freq``, jieba frequency), and
    generic affixes (银行, 中国) that do not count as evidence. Frames map to the industries they
    fit (None: any; 的套餐 frames a telecom brand only)."""

    strong_before: dict[str, frozenset[str] | None] = field(default_factory=dict)
    strong_after: dict[str, frozenset[str] | None] = field(default_factory=dict)
    generic_affixes: tuple[str, ...] = ()
    max_word_freq: int = 5000


@dataclass(frozen=True, slots=True)
class CompetitorPatterns:
    """The whole lexicon; ``names`` maps every alias and product to (brand, kind)."""

    source: str
    version: int
    industries: tuple[str, ...]
    brands: dict[str, Brand]
    names: dict[str, tuple[str, str]]
    brand_before: frozenset[str] = frozenset()
    brand_after: frozenset[str] = frozenset()
    reject_after: tuple[re.Pattern[str], ...] = ()
    own_before: tuple[str, ...] = ()
    own_markers: tuple[str, ...] = ()
    own_lead: tuple[re.Pattern[str], ...] = ()
    own_after: tuple[re.Pattern[str], ...] = ()
    compare: tuple[re.Pattern[str], ...] = ()
    compare_window: int = 20
    instrument_industries: frozenset[str] = frozenset()
    instrument: re.Pattern[str] | None = None
    instrument_window: int = 10
    cues: tuple[CueGroup, ...] = ()
    scoring: DimensionScoring = DimensionScoring()
    sound_alike: SoundAlike = SoundAlike()

    def resolve(self, brand: str, industry: str | None) -> str:
        """The brand a bare alias means in a call of ``industry`` (平安 in a bank call: 平安银行)."""
        return self.brands[brand].in_industry.get(industry or "", brand)


def load_competitor_patterns(path: str | Path | None = None) -> CompetitorPatterns:
    """Read and validate a competitor lexicon (default: the bundled one); cached per path and
    modification time, so an edited file is read again."""
    return _load(*patterns_key(path))


def patterns_key(path: str | Path | None = None) -> tuple[str, int]:
    """(absolute path, modification time in ns) of a lexicon file; the time is 0 if it is missing."""
    resolved = Path(path).resolve() if path is not None else DEFAULT_PATTERNS
    try:
        return str(resolved), resolved.stat().st_mtime_ns
    except OSError:
        return str(resolved), 0


@lru_cache(maxsize=8)
def _load(path: str, version: int) -> CompetitorPatterns:
    """Parse and check the file (``version`` is only part of the cache key)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CompetitorPatternError(f"{path}: cannot read competitor patterns ({exc})") from exc
    if not isinstance(data, dict):
        raise CompetitorPatternError(f"{path}: expected a mapping with 'brands' and 'dimensions'")
    industries = tuple(_strings(data.get("industries"), f"{path}: industries"))
    if not industries:
        raise CompetitorPatternError(f"{path}: industries: list at least one industry")
    brands = _brands(data.get("brands"), path, industries)
    context = _mapping(data.get("context", {}), f"{path}: context")
    instrument = _mapping(context.get("instrument", {}), f"{path}: context.instrument")
    return CompetitorPatterns(
        source=path,
        version=version,
        industries=industries,
        brands={b.name: b for b in brands},
        names=_names(brands, path),
        brand_before=frozenset(_strings(context.get("brand_before", []), f"{path}: context.brand_before")),
        brand_after=frozenset(_strings(context.get("brand_after", []), f"{path}: context.brand_after")),
        reject_after=_regexes(context.get("reject_after", []), f"{path}: context.reject_after"),
        own_before=tuple(_strings(context.get("own_before", []), f"{path}: context.own_before")),
        own_markers=tuple(_strings(context.get("own_markers", []), f"{path}: context.own_markers")),
        own_lead=_regexes(context.get("own_lead", []), f"{path}: context.own_lead"),
        own_after=_regexes(context.get("own_after", []), f"{path}: context.own_after"),
        compare=_regexes(context.get("compare", []), f"{path}: context.compare"),
        compare_window=_number(context.get("compare_window", 20), f"{path}: context.compare_window", int),
        instrument_industries=frozenset(_strings(instrument.get("industries", []),
                                                 f"{path}: context.instrument.industries")),
        instrument=_regex(instrument["pattern"], f"{path}: context.instrument.pattern")
        if "pattern" in instrument else None,
        instrument_window=_number(instrument.get("window", 10), f"{path}: context.instrument.window", int),
        cues=_cues(data.get("dimensions"), path),
        scoring=_scoring(data.get("dimension_scoring", {}), path),
        sound_alike=_sound_alike(data.get("sound_alike", {}), path, industries),
    )


def _sound_alike(raw: Any, path: str, industries: tuple[str, ...]) -> SoundAlike:
    """The sound_alike block: strong frames, generic affixes and the common-word limit."""
    where = f"{path}: sound_alike"
    raw = _mapping(raw, where)
    unknown = set(raw) - {"strong_before", "strong_after", "generic_affixes", "max_word_freq"}
    if unknown:
        raise CompetitorPatternError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return SoundAlike(
        strong_before=_frames(raw.get("strong_before", []), f"{where}.strong_before", industries),
        strong_after=_frames(raw.get("strong_after", []), f"{where}.strong_after", industries),
        generic_affixes=tuple(_strings(raw.get("generic_affixes", []), f"{where}.generic_affixes")),
        max_word_freq=_number(raw.get("max_word_freq", 5000), f"{where}.max_word_freq", int),
    )


def _frames(raw: Any, where: str, industries: tuple[str, ...]) -> dict[str, frozenset[str] | None]:
    """Frame words, either a list (they fit any industry) or a mapping: ``any`` or an industry (or
    several joined by '+', bank+telecom) to a list of frame words."""
    if isinstance(raw, list):
        return dict.fromkeys(_strings(raw, where))
    frames: dict[str, frozenset[str] | None] = {}
    for key, words in _mapping(raw, where).items():
        scope = None if key == "any" else frozenset(str(key).split("+"))
        if scope is not None and not scope <= set(industries):
            raise CompetitorPatternError(f"{where}.{key}: unknown industry (expected any or one of "
                                         f"{', '.join(industries)}, joined by '+')")
        for word in _strings(words, f"{where}.{key}"):
            frames[word] = scope
    return frames


def _brands(raw: Any, path: str, industries: tuple[str, ...]) -> list[Brand]:
    """Every brand entry, checked one by one."""
    if not isinstance(raw, list) or not raw:
        raise CompetitorPatternError(f"{path}: brands: expected a non-empty list")
    brands = [_brand(item, f"{path}: brands[{i}]", industries) for i, item in enumerate(raw)]
    known = {b.name for b in brands}
    for i, brand in enumerate(brands):
        for industry, other in brand.in_industry.items():
            if other not in known:
                raise CompetitorPatternError(
                    f"{path}: brands[{i}] ({brand.name}): in_industry.{industry} names unknown brand "
                    f"{other!r}")
    return brands


def _brand(item: Any, where: str, industries: tuple[str, ...]) -> Brand:
    """One brand entry; ``where`` is 'file: brands[i]'."""
    item = _mapping(item, where)
    name = item.get("brand")
    if not isinstance(name, str) or not name.strip():
        raise CompetitorPatternError(f"{where}: 'brand' is missing or not a non-empty string")
    where = f"{where} ({name})"
    unknown = set(item) - _BRAND_KEYS
    if unknown:
        raise CompetitorPatternError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    industry = item.get("industry")
    if industry not in industries:
        raise CompetitorPatternError(f"{where}: industry {industry!r} is not one of {', '.join(industries)}")
    aliases = tuple(_strings(item.get("aliases"), f"{where}: aliases"))
    if not aliases:
        raise CompetitorPatternError(f"{where}: aliases: list at least one name")
    ambiguous = frozenset(_strings(item.get("ambiguous", []), f"{where}: ambiguous"))
    if not ambiguous <= set(aliases):
        stray = sorted(ambiguous - set(aliases))
        raise CompetitorPatternError(f"{where}: ambiguous names {stray} are not aliases")
    in_industry = _mapping(item.get("in_industry", {}), f"{where}: in_industry")
    for key, value in in_industry.items():
        if key not in industries or not isinstance(value, str):
            raise CompetitorPatternError(
                f"{where}: in_industry.{key}: expected a known industry and a brand name")
    return Brand(
        name=name, industry=industry, aliases=aliases,
        products=tuple(_strings(item.get("products", []), f"{where}: products")),
        hotlines=tuple(str(h) for h in _list(item.get("hotlines", []), f"{where}: hotlines")),
        ambiguous=ambiguous,
        reject=_regexes(item.get("reject", []), f"{where}: reject"),
        in_industry=dict(in_industry),
    )


def _names(brands: list[Brand], path: str) -> dict[str, tuple[str, str]]:
    """Alias/product text -> (brand, kind); a name claimed by two brands is an error."""
    names: dict[str, tuple[str, str]] = {}
    for i, brand in enumerate(brands):
        for kind, texts in (("alias", brand.aliases), ("product", brand.products)):
            for text in texts:
                if text in names and names[text][0] != brand.name:
                    raise CompetitorPatternError(
                        f"{path}: brands[{i}] ({brand.name}): {kind} {text!r} already belongs to "
                        f"{names[text][0]}")
                names.setdefault(text, (brand.name, kind))
    return names


def _cues(raw: Any, path: str) -> tuple[CueGroup, ...]:
    """Dimension cue groups; a dimension outside price/product/service/network is an error."""
    raw = _mapping(raw, f"{path}: dimensions")
    groups: list[CueGroup] = []
    for dimension, items in raw.items():
        where = f"{path}: dimensions.{dimension}"
        if dimension not in DIMENSIONS:
            raise CompetitorPatternError(
                f"{where}: unknown dimension (expected one of {', '.join(DIMENSIONS)})")
        for j, group in enumerate(_list(items, where)):
            group = _mapping(group, f"{where}[{j}]")
            patterns = [p.replace("{num}", NUMBER_CLASS) if isinstance(p, str) else p
                        for p in _list(group.get("patterns", []), f"{where}[{j}].patterns")]
            groups.append(CueGroup(
                dimension=dimension,
                weight=_number(group.get("weight", 1.0), f"{where}[{j}].weight", float),
                words=tuple(_strings(group.get("words", []), f"{where}[{j}].words")),
                patterns=_regexes(patterns, f"{where}[{j}].patterns"),
            ))
    return tuple(groups)


def _scoring(raw: Any, path: str) -> DimensionScoring:
    """The dimension_scoring block, with defaults for what is left out."""
    where = f"{path}: dimension_scoring"
    raw = _mapping(raw, where)
    default = raw.get("default", "product")
    if default not in DIMENSIONS:
        raise CompetitorPatternError(f"{where}.default: unknown dimension {default!r}")
    numbers = {key: _number(raw.get(key, getattr(DimensionScoring(), key)), f"{where}.{key}", float)
               for key in ("decay_chars", "boundary_penalty", "before_penalty", "neighbour", "carry")}
    return DimensionScoring(default=default, ignore=tuple(_strings(raw.get("ignore", []), f"{where}.ignore")),
                            **numbers)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is a mapping, else an error at ``where``."""
    if not isinstance(value, dict):
        raise CompetitorPatternError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    """``value`` if it is a list, else an error at ``where``."""
    if not isinstance(value, list):
        raise CompetitorPatternError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    """``value`` if it is a list of non-empty strings, else an error naming the bad item."""
    items = _list(value, where)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise CompetitorPatternError(f"{where}: {item!r} is not a non-empty string")
    return items


def _number(value: Any, where: str, kind: type) -> Any:
    """``value`` as ``kind`` if it is a non-negative number, else an error at ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise CompetitorPatternError(f"{where}: {value!r} is not a non-negative number")
    return kind(value)


def _regex(value: Any, where: str) -> re.Pattern[str]:
    """The compiled regular expression, or an error quoting it."""
    if not isinstance(value, str):
        raise CompetitorPatternError(f"{where}: {value!r} is not a string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise CompetitorPatternError(f"{where}: bad regular expression {value!r} ({exc})") from exc


def _regexes(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    """A list of regular expressions, each error naming its index."""
    return tuple(_regex(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where)))
