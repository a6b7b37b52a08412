"""Page texts by language: ``i18n.yaml`` holds every string in zh and en; pages call ``t(key)``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

TEXTS = Path(__file__).resolve().parent / "i18n.yaml"
LANGUAGES = ("zh", "en")


@cache
def texts() -> dict[str, dict[str, str]]:
    """All page texts (read once); a key missing a language falls back to the other."""
    return yaml.safe_load(TEXTS.read_text(encoding="utf-8"))


def translator(lang: str):
    """``t(key)`` for one language; an unknown key shows as itself so a gap is visible, not fatal."""
    lang = lang if lang in LANGUAGES else "zh"

    def t(key: str) -> str:
        entry = texts().get(key)
        if not entry:
            return key
        return entry.get(lang) or next(iter(entry.values()))

    return t
