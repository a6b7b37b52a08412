"""Report thresholds the customer edits: ``settings.yaml`` beside this module, one section per report.

``DEFAULTS`` lists every known section and key with its default value; a report adds its own
section there. Loading merges the file's values over the defaults and refuses, with a
``ValueError`` naming the file and the key, an unknown section, an unknown key in a known
section, or a value of the wrong type (numbers must also not be negative).
``SettingsError`` is a ``ValueError``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml


class SettingsError(ValueError):
    """A settings file or mapping that does not fit ``DEFAULTS``; the message names the file and key."""


DEFAULT_SETTINGS = Path(__file__).resolve().parent / "settings.yaml"

DEFAULTS: dict[str, dict[str, Any]] = {
    "voice": {
        "period_days": 7,             # period when none is given: this many days ending at the latest call day
        "baseline_days": 28,          # window before the period whose daily counts are the baseline
        "spike_p_value": 0.01,        # one-sided Poisson p-value below which a rise is not chance
        "spike_min_ratio": 2.0,       # ... and the period count is at least this many times expected
        "spike_min_count": 3,         # ... and at least this many calls
        "new_min_count": 1,           # calls a reason never seen in the baseline needs to be reported new
        "trend_reasons": 8,           # reasons drawn in the daily trend chart
        "ranking_chart_reasons": 15,  # reasons drawn in the ranking bar chart
    },
    "handle_time": {
        "efficient_ratio": 0.8,       # agent median / peers' median at or below this: 高效
        "slow_ratio": 1.25,           # at or above this: 低效
        "min_calls": 3,               # agent calls on a reason needed for a label, else 样本不足
        "min_peer_calls": 3,          # other agents' calls on the reason needed for a label
        "repeat_similarity": 80,      # rapidfuzz ratio (0-100) at which a turn repeats an earlier one
        "repeat_min_chars": 5,        # shorter turns ("好的", "对对对") never count as repeats
        "evidence_tolerance": 0.1,    # relative difference under which agent and peers are "相近"
        "chart_reasons": 15,          # reasons drawn in the median/P90 chart
        "chart_agents": 20,           # agent-reason rows drawn in the agents-vs-peers chart
    },
    "competitors": {
        "listen_top": 20,             # calls kept in the "calls to listen to" list
        "chart_brands": 12,           # brands drawn in the brand x dimension chart
        "line_brands": 8,             # brands drawn in the per-day chart
    },
    "ivr": {
        "complaint_reasons": ["service_complaint"],  # reason codes that mark a call as a complaint
        "complaint_risk_threshold": 0.5,  # ... or a complaint risk at or above this
        "use_complained_later": True,  # ... or labels.complained_later true, when the input carries labels
        "chart_nodes": 15,            # nodes (most visited first) drawn in the failure-rate chart
        "chart_exits": 10,            # exit nodes drawn in the exit chart
    },
}


def load_settings(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every known section, defaults merged with the file's values (default: ``settings.yaml``)."""
    source = Path(path) if path is not None else DEFAULT_SETTINGS
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{source}: cannot read settings ({exc})") from exc
    return merged_settings(raw, str(source))


def merged_settings(raw: Any, source: str = "<settings>") -> dict[str, dict[str, Any]]:
    """Validate ``raw`` (a mapping of sections, e.g. parsed YAML) and merge it over ``DEFAULTS``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: settings are a mapping of sections ({', '.join(DEFAULTS)})")
    result = copy.deepcopy(DEFAULTS)
    for section, values in raw.items():
        if section not in DEFAULTS:
            raise SettingsError(f"{source}: unknown section {section!r}; known: {', '.join(DEFAULTS)}")
        if values is None:
            continue
        if not isinstance(values, dict):
            raise SettingsError(f"{source}: section {section!r} must map keys to values")
        for key, value in values.items():
            result[section][key] = _checked(source, section, key, value)
    return result


def section_settings(name: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """One section for a report builder: ``settings`` (``load_settings`` output or a partial mapping
    of sections) validated and merged over the defaults; None reads ``settings.yaml``."""
    merged = load_settings() if settings is None else merged_settings(settings)
    return merged[name]


def _checked(source: str, section: str, key: Any, value: Any) -> Any:
    """``value`` if it suits ``section.key``'s default; else a ValueError naming file and key."""
    where = f"{source}: {section}.{key}"
    if key not in DEFAULTS[section]:
        raise SettingsError(f"{where}: unknown key; known: {', '.join(DEFAULTS[section])}")
    default = DEFAULTS[section][key]
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise SettingsError(f"{where}: expected {type(default).__name__}, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise SettingsError(f"{where}: must not be negative, got {value!r}")
    return float(value) if isinstance(default, float) else value
