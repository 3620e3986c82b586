"""95 % intervals of the headline figures: a percentile bootstrap over the scored galaxies.

A test split of a few hundred galaxies moves accuracy by a few points from one draw of galaxies to the
next; the interval says how far, so a `dvc metrics diff` can be read against it. The resamples come
from a seed, so the intervals are as reproducible as the figures.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

Figures = Callable[[np.ndarray], dict[str, float]]  # rows of the scored galaxies -> named figures


def bootstrap_intervals(scores: Figures, count: int, resamples: int, seed: int) -> dict[str, dict[str, float]]:
    """{figure: {"low", "high"}}: the 2.5th and 97.5th percentiles of ``scores`` over ``resamples`` draws
    of ``count`` galaxies with replacement."""
    rng = np.random.default_rng(seed)
    draws = [scores(rng.integers(0, count, count)) for _ in range(resamples)]
    return {name: {"low": round(float(np.percentile([d[name] for d in draws], 2.5)), 4),
                   "high": round(float(np.percentile([d[name] for d in draws], 97.5)), 4)}
            for name in draws[0]}
