"""The customer-edited files of agent assist, read and checked: talk tracks and flag thresholds
(``callscope/data/assist.yaml``) and competitor counter-points (``callscope/data/counterpoints.yaml``).

Both are data a contact centre edits, so every mistake (an unknown script point, reason, brand,
industry or dimension, a wrong type) is an ``AssistSettingsError`` naming the file and the entry.
Files are cached by path and modification time: an edited file is read again on the next session.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nlp.taxonomy import Taxonomy

DATA = Path(__file__).resolve().parents[2] / "callscope" / "data"
ASSIST_FILE = DATA / "assist.yaml"
COUNTERPOINTS_FILE = DATA / "counterpoints.yaml"
DIMENSION_KEYS = ("price", "product", "service", "network", "any")


class AssistSettingsError(ValueError):
    """A malformed assist settings or counter-points file; the message names the file and entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrackWhen(_Strict):
    """Which calls a talk track fits (a key left out fits any call)."""

    direction: str | None = None
    industry: list[str] | None = None
    reasons: list[str] | None = None

    def fits(self, direction: str | None, industry: str | None, reasons: list[str]) -> bool:
        """Whether a call with this direction, industry and reasons so far fits."""
        if self.direction is not None and direction != self.direction:
            return False
        if self.industry is not None and industry not in self.industry:
            return False
        return self.reasons is None or any(r in self.reasons for r in reasons)


class TalkTrack(_Strict):
    """A named order of script points."""

    name: str = Field(min_length=1)
    when: TrackWhen = TrackWhen()
    steps: list[str] = Field(min_length=1)


class CustomerFlagRules(_Strict):
    """Thresholds of the customer flags read from earlier calls."""

    class Complaint(_Strict):
        name: str = "投诉敏感"
        reasons: list[str] = Field(default_factory=list)
        min_risk: float = 0.5
        complaints_90d: int = 1

    class Fee(_Strict):
        name: str = "费用敏感"
        reasons: list[str] = Field(default_factory=list)

    class Repeat(_Strict):
        name: str = "重复来电"
        within_hours: float = 24.0
        calls_in_30d: int = 3

    complaint_sensitive: Complaint = Complaint()
    fee_sensitive: Fee = Fee()
    repeat_caller: Repeat = Repeat()
    lookback_calls: int = Field(50, ge=1, le=1000)


class CallFlagRules(_Strict):
    """Thresholds of the flags this call raises as it goes."""

    class Upset(_Strict):
        name: str = "客户情绪激动"
        customer_sentiment_below: float = -0.3

    class Buying(_Strict):
        name: str = "购买意向"
        lead_intents: list[str] = Field(default_factory=lambda: ["high"])

    upset: Upset = Upset()
    buying_signal: Buying = Buying()


class AssistSettings(_Strict):
    """The whole ``assist.yaml``."""

    version: int | str = 1
    talk_tracks: list[TalkTrack] = Field(min_length=1)
    min_reason_score: float = 0.3
    done_score: float = Field(0.3, gt=0, le=1)
    customer_flags: CustomerFlagRules = CustomerFlagRules()
    call_flags: CallFlagRules = CallFlagRules()
    competitor_card_turns: int = Field(4, ge=1)

    def track(self, direction: str | None, industry: str | None, reasons: list[str]) -> TalkTrack:
        """The first track that fits the call (the last track if none does)."""
        return next((t for t in self.talk_tracks if t.when.fits(direction, industry, reasons)), self.talk_tracks[-1])


class CounterPoints(_Strict):
    """The whole ``counterpoints.yaml``: points by industry and by brand, each by dimension."""

    version: int | str = 1
    max_points: int = Field(4, ge=1, le=20)
    industries: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    brands: dict[str, dict[str, list[str]]] = Field(default_factory=dict)

    def points(self, brand: str, industry: str | None, dimension: str) -> list[str]:
        """What to say about ``brand`` compared on ``dimension``: the brand's own points first
        (that dimension, then ``any``), then its industry's, at most ``max_points``."""
        found: list[str] = []
        for table, key in ((self.brands, brand), (self.industries, industry)):
            entry = table.get(key or "", {})
            found += entry.get(dimension, []) + entry.get("any", [])
        return list(dict.fromkeys(found))[: self.max_points]


def load_assist_settings(path: str | Path | None = None, taxonomy: Taxonomy | None = None) -> AssistSettings:
    """``assist.yaml`` (default: the bundled one), checked against ``taxonomy`` when given."""
    file = Path(path) if path else ASSIST_FILE
    settings = _settings(str(file), _mtime(file))
    if taxonomy is not None:
        _check_codes(str(file), settings, taxonomy)
    return settings


def load_counterpoints(path: str | Path | None = None) -> CounterPoints:
    """``counterpoints.yaml`` (default: the bundled one), brands and industries checked against
    the competitor lexicon."""
    file = Path(path) if path else COUNTERPOINTS_FILE
    return _counterpoints(str(file), _mtime(file))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=8)
def _settings(path: str, _mtime_ns: int) -> AssistSettings:
    return _validated(path, AssistSettings)


def _check_codes(path: str, settings: AssistSettings, taxonomy: Taxonomy) -> None:
    """Every script point and reason the file names exists in the taxonomy in force."""
    for i, track in enumerate(settings.talk_tracks):
        for step in track.steps:
            _known(path, f"talk_tracks[{i}] ({track.name}).steps", step, taxonomy.script_points)
        for reason in track.when.reasons or []:
            _known(path, f"talk_tracks[{i}] ({track.name}).when.reasons", reason, taxonomy.reasons)
    flags = settings.customer_flags
    for where, reasons in (("complaint_sensitive", flags.complaint_sensitive.reasons),
                           ("fee_sensitive", flags.fee_sensitive.reasons)):
        for reason in reasons:
            _known(path, f"customer_flags.{where}.reasons", reason, taxonomy.reasons)


@lru_cache(maxsize=8)
def _counterpoints(path: str, _mtime_ns: int) -> CounterPoints:
    from nlp.competitors import load_competitor_patterns

    points = _validated(path, CounterPoints)
    lexicon = load_competitor_patterns()
    industries = {b.industry for b in lexicon.brands.values()}
    for where, table, known in (("industries", points.industries, industries),
                                ("brands", points.brands, set(lexicon.brands))):
        for key, entry in table.items():
            _known(path, where, key, known)
            for dimension, items in entry.items():
                if dimension not in DIMENSION_KEYS:
                    raise AssistSettingsError(f"{path}: {where}.{key}: unknown dimension {dimension!r}; "
                                              f"use one of {', '.join(DIMENSION_KEYS)}")
                if not all(isinstance(p, str) and p.strip() for p in items):
                    raise AssistSettingsError(f"{path}: {where}.{key}.{dimension}: points must be non-empty texts")
    return points


def _validated(path: str, model: type[BaseModel]) -> Any:
    """The file parsed into ``model``; any problem as ``AssistSettingsError`` naming the entry."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AssistSettingsError(f"{path}: cannot read ({exc})") from exc
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise AssistSettingsError(f"{path}: {problems}") from None


def _known(path: str, where: str, value: str, known) -> None:
    if value not in known:
        shown = ", ".join(list(known)[:30])
        raise AssistSettingsError(f"{path}: {where}: unknown {value!r}; known: {shown}")
