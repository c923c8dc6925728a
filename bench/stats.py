"""The throughput benchmark's arithmetic: percentiles, flatness of a soak, a Prometheus counter's value.

Pure functions (no sibling imports), so the unit tests load them as `bench.stats`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

SOAK_TOLERANCE = 0.10


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    if not values:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile out of (0, 100]: {p}")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def flat_after_warmup(samples: Sequence[float], tolerance: float = SOAK_TOLERANCE) -> bool:
    """Whether every later sample stays within ±tolerance of samples[1].

    samples[0] is taken before the first start, samples[1] after the first batch (the warm-up: pools,
    caches and connections now exist); a leak shows as a steady climb from there on.
    """
    if len(samples) < 3:
        raise ValueError("a soak needs at least three samples")
    baseline = samples[1]
    return all(abs(value - baseline) <= tolerance * baseline for value in samples[2:])


def counter_total(metrics_text: str, name: str) -> float | None:
    """Sum of a Prometheus counter's samples over all labels, or None when the server does not export it."""
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})?\s+(\S+)$", re.MULTILINE)
    values = pattern.findall(metrics_text)
    return sum(float(v) for v in values) if values else None


def per_lead(delta: float | None, leads: int) -> float | None:
    return None if delta is None or leads <= 0 else delta / leads


def pooled_percentile(grids: Sequence[tuple[int, Sequence[float]]], p: float) -> float:
    """Nearest-rank percentile of several runs pooled, each given as (requests, its quantile grid).

    Percentiles of separate runs cannot be averaged; a grid of equal steps (wrk's start script prints 1,000)
    stands for its run's distribution, each point weighing requests / len(grid).
    """
    points = sorted((value, count / len(grid)) for count, grid in grids if count and grid for value in grid)
    if not points:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile out of (0, 100]: {p}")
    rank = p / 100 * sum(weight for _, weight in points)
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= rank * (1 - 1e-9):
            return value
    return points[-1][0]


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` connections over `parts` load generators, the first ones taking the remainder: 8 over 3 → 3, 3, 2."""
    if not 0 < parts <= total:
        raise ValueError(f"cannot split {total} over {parts}")
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def to_ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
