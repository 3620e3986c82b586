"""The headline figures' 95 % intervals: a seeded percentile bootstrap over the scored galaxies."""
import numpy as np

from gzmorph.inference.metrics import bootstrap_intervals


def accuracy_of(right: np.ndarray):
    return lambda rows: {"accuracy": float(right[rows].mean())}


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    right = np.random.default_rng(0).random(200) < 0.8
    first, again = (bootstrap_intervals(accuracy_of(right), 200, 300, seed=1) for _ in range(2))
    assert first == again and first != bootstrap_intervals(accuracy_of(right), 200, 300, seed=2)


def test_the_interval_holds_the_figure_and_narrows_with_more_galaxies():
    rng = np.random.default_rng(0)
    widths = []
    for count in (100, 1600):
        right = rng.random(count) < 0.8
        interval = bootstrap_intervals(accuracy_of(right), count, 1000, seed=0)["accuracy"]
        assert interval["low"] < right.mean() < interval["high"]
        widths.append(interval["high"] - interval["low"])
    # A binomial proportion's 95 % interval is about 4 standard errors wide: sqrt(0.16 / n) each.
    assert abs(widths[0] - 4 * 0.04) < 0.03
    assert abs(widths[1] - 4 * 0.01) < 0.008


def test_every_figure_gets_its_own_interval():
    values = np.arange(50, dtype=float)
    intervals = bootstrap_intervals(lambda rows: {"mean": values[rows].mean(), "max": values[rows].max()}, 50,
                                    200, seed=0)
    assert set(intervals) == {"mean", "max"} and intervals["max"]["high"] == 49.0
