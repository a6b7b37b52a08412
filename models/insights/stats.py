"""Small statistics the reports share: quantiles, proportions with intervals, lift."""

from __future__ import annotations

import math


def quantile(values: list[float], q: float) -> float | None:
    """Linear-interpolated q-quantile (numpy's default method); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def lift(rate: float, base_rate: float) -> float | None:
    """How many times the base rate a rate is; None when the base rate is 0."""
    return rate / base_rate if base_rate > 0 else None
