"""Customer configuration replaced through the API (rule books, taxonomy), in force for new analyses.

(To be written by the rules helper; ``active_paths`` is what the job pipeline calls.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ActiveConfig:
    """Files the analyzer should load instead of the bundled ones (None / empty: bundled), and a
    version stamp that changes whenever any of them is replaced."""

    taxonomy: Path | None = None
    rulebooks: tuple[Path, ...] = field(default_factory=tuple)
    version: str = "bundled"


def active_paths(config) -> ActiveConfig:
    """What is in force now for the service with ``config`` (bundled files until replaced)."""
    return ActiveConfig()
