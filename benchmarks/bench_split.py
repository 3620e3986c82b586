"""Benchmark the split stage's image packing: throughput on the real Kaggle JPEGs, and peak memory
at full Galaxy Zoo 2 scale (61,578 images, made by symlinking the real ones under new names).

    .venv/bin/python benchmarks/bench_split.py [--count 61578] [--workers 2] [--size 64] [--crop 207]

Targets: >= 1,500 images/s on 2 cores; peak memory under 2 GB for 61,578 images.
The images are read where they lie; nothing is copied into the project.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from gzmorph.data.packing import pack_images
from gzmorph.paths import real_gz2

KAGGLE_IMAGES = real_gz2("kaggle") / "images_training_rev1"
FULL_GZ2_COUNT = 61_578


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=KAGGLE_IMAGES, help="folder of real JPEGs")
    parser.add_argument("--count", type=int, default=FULL_GZ2_COUNT, help="images in the memory run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--crop", type=int, default=207)
    return parser.parse_args()


def symlink_farm(sources: list[Path], count: int, folder: Path) -> list[Path]:
    """`count` distinct names cycling over the real files, as a full-size image folder would look."""
    links = []
    for index in range(count):
        link = folder / f"{100000 + index}.jpg"
        link.symlink_to(sources[index % len(sources)])
        links.append(link)
    return links


def cpu_seconds() -> float:
    """CPU time of this process and of its finished workers (the pool reaps them on exit)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def timed_pack(paths: list[Path], out_file: Path, args: argparse.Namespace) -> tuple[float, float]:
    """Wall seconds and CPU seconds; the CPU figure holds even when other jobs share the cores."""
    start, start_cpu = time.perf_counter(), cpu_seconds()
    packed = pack_images(paths, out_file, args.crop, args.size, workers=args.workers)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    if packed.problems:
        print(f"  {len(packed.problems)} unusable, e.g. {packed.problems[0][1]}")
    return seconds, cpu


def rates(count: int, seconds: float, cpu: float, cores: int) -> str:
    return (f"{count / seconds:,.0f} images/s ({seconds:.1f} s wall); {cpu / count * 1000:.2f} ms CPU per image "
            f"over all processes, so at most {count / cpu * cores:,.0f} images/s on {cores} idle cores")


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest finished worker (Linux reports KiB)."""
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    largest_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return parent, largest_worker


def main() -> None:
    args = parse_args()
    sources = sorted(args.images.glob("*.jpg"))
    settings = f"size {args.size}, crop {args.crop}, {args.workers} workers"
    print(f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench_split_") as scratch:
        scratch = Path(scratch)
        # The first pass also warms the page cache, as a second `dvc repro` would find it.
        for label in ("first pass", "cached"):
            seconds, cpu = timed_pack(sources, scratch / "real.npy", args)
            rate = rates(len(sources), seconds, cpu, args.workers)
            print(f"throughput, {len(sources)} real JPEGs, {settings}, {label}: {rate}")

        farm = scratch / "images"
        farm.mkdir()
        links = symlink_farm(sources, args.count, farm)
        out_file = scratch / "full.npy"
        seconds, cpu = timed_pack(links, out_file, args)
        parent, worker = peak_rss_mb()
        print(f"full scale, {args.count:,} images, {settings}: {rates(args.count, seconds, cpu, args.workers)}; "
              f"output {out_file.stat().st_size / 2**20:,.0f} MiB")
        print(f"peak RSS: parent {parent:,.0f} MiB, largest worker {worker:,.0f} MiB, "
              f"parent + {args.workers} workers at most {parent + args.workers * worker:,.0f} MiB")

if __name__ == "__main__":
    main()
