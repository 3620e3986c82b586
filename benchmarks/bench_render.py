"""Render rate of the synthetic sample: galaxies per second on one core, JPEG encoding included.

    python benchmarks/bench_render.py [--n 300] [--seed 0]

Target: at least 50 galaxies/s, so the 1,500-galaxy embedded sample renders in well under a minute.
Morphology and votes are drawn too (they are a small share); file writing is left out.
"""
from __future__ import annotations

import argparse
import os
import time

# One core: numpy and scipy must not spread over threads, or the rate would not be per core.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from gzmorph.synthetic.sample import synthesise_galaxy  # noqa: E402  (after the thread limits above)

TARGET_RATE = 50.0


def render_rate(n: int, seed: int) -> tuple[float, float]:
    """Galaxies per second over ``n`` galaxies, and their mean JPEG size in KB."""
    synthesise_galaxy(seed, n)  # warm-up: imports, caches
    start = time.perf_counter()
    sizes = [len(synthesise_galaxy(seed, index).jpeg) for index in range(n)]
    elapsed = time.perf_counter() - start
    return n / elapsed, sum(sizes) / len(sizes) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rate, kilobytes = render_rate(args.n, args.seed)
    verdict = "meets" if rate >= TARGET_RATE else "misses"
    print(f"rendered {args.n} galaxies: {rate:.1f} galaxies/s on one core ({verdict} the {TARGET_RATE:.0f}/s target), "
          f"mean JPEG {kilobytes:.1f} KB")


if __name__ == "__main__":
    main()
