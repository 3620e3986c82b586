"""Benchmark `gzmorph predict`'s memory at survey scale: peak RSS of the command at 1,000 and at 100,000
cut-outs (symlinks to the real Kaggle JPEGs, made in a scratch folder, so nothing is copied), with and without
--embeddings, each in a process of its own. Target (issue 34): the peak at 100,000 within 10 % of that at 1,000.

    .venv/bin/python benchmarks/bench_predict_memory.py [--counts 1000 100000] [--output .parquet]

Classification only (--no-captions), as a survey's first pass runs; the rows stream to the output, so the peak
should not grow with the count.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gzmorph.paths import real_gz2

KAGGLE_IMAGES = real_gz2("kaggle") / "images_training_rev1"


def cutouts(folder: Path, count: int, sources: list[Path]) -> Path:
    """``count`` symlinks to the real JPEGs, over and over, in a folder of their own."""
    folder.mkdir()
    for i in range(count):
        (folder / f"{i:07d}.jpg").symlink_to(sources[i % len(sources)])
    return folder


# A fresh parent per run: ru_maxrss of RUSAGE_CHILDREN is the largest of all a process's children so far.
MEASURE = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stderr=subprocess.DEVNULL); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss_mb(args: list[str]) -> tuple[float, float]:
    """The command's peak resident memory (MB) and wall time (s)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "gzmorph", "predict", *args],
                          check=True, capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--output", default=".parquet", choices=(".csv", ".parquet", ".json"))
    args = parser.parse_args()
    sources = sorted(KAGGLE_IMAGES.iterdir())
    with tempfile.TemporaryDirectory() as scratch:
        for embeddings in (False, True):
            for count in sorted(args.counts):
                folder = cutouts(Path(scratch) / f"{count}_{embeddings}", count, [s.resolve() for s in sources])
                output = Path(scratch) / f"out_{count}_{embeddings}{args.output}"
                flags = ["--embeddings"] if embeddings else []
                peak, seconds = peak_rss_mb([str(folder), "--no-captions", *flags, "-o", str(output)])
                print(f"{count:>7,} cut-outs, {'with' if embeddings else 'without'} --embeddings, {args.output}: "
                      f"peak RSS {peak:,.0f} MB, {seconds:.0f} s ({count / seconds:.0f} images/s with start-up)",
                      flush=True)


if __name__ == "__main__":
    main()
