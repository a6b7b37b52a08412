"""From speech regions to turns: who spoke when, before any words are known.

A turn is one party's stretch of speech until the other party speaks or a long pause falls.
Each turn keeps its regions as ``clips`` (each at most one Whisper window long), so the
transcriber can decode exactly the audio of that turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from speech.audio import SAMPLE_RATE


@dataclass(slots=True)
class Region:
    """A stretch of speech by one speaker (channel index or cluster id) in seconds."""

    speaker: int
    start: float
    end: float


@dataclass(slots=True)
class TurnSlot:
    """A turn before transcription: its speaker and the regions (clips) that make it up."""

    speaker: int
    clips: list[tuple[float, float]] = field(default_factory=list)

    @property
    def start(self) -> float:
        """Start of the first clip."""
        return self.clips[0][0]

    @property
    def end(self) -> float:
        """End of the last clip."""
        return self.clips[-1][1]


def drop_crosstalk(
    regions: list[Region], channels: list[np.ndarray], *, margin_db: float = 15.0
) -> list[Region]:
    """Drop regions where another channel is far louder: echo of the other party, not speech."""
    if len(channels) < 2:
        return regions
    kept = []
    for region in regions:
        a, b = int(region.start * SAMPLE_RATE), int(region.end * SAMPLE_RATE)
        levels = [_rms_db(ch[a:b]) for ch in channels]
        own = levels[region.speaker]
        if max(levels) - own < margin_db:
            kept.append(region)
    return kept


def _rms_db(x: np.ndarray) -> float:
    return 10.0 * float(np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12))


def group_turns(regions: list[Region], *, max_gap: float = 2.0) -> list[TurnSlot]:
    """Merge each speaker's consecutive regions into turns, split where another speaker starts."""
    ordered = sorted(regions, key=lambda r: (r.start, r.speaker))
    turns: list[TurnSlot] = []
    for region in ordered:  # in time order, another speaker's region always opens a new turn
        last = turns[-1] if turns else None
        if last is not None and last.speaker == region.speaker and region.start - last.end <= max_gap:
            last.clips.append((region.start, region.end))
        else:
            turns.append(TurnSlot(region.speaker, [(region.start, region.end)]))
    return turns

