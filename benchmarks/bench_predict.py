"""Benchmark `gzmorph predict` on real Kaggle JPEGs: images/s end to end (as the command runs: decode, forward
pass, familiarity, captions, rows written to the output) against the forward pass alone, in float32 and in
bfloat16, with and without captions, side by side in one run, and where the time goes.

    .venv/bin/python benchmarks/bench_predict.py [--models DIR] [--count 2048] [--batch-size 512] [--output .csv]

Targets (issue 34), without captions, start-up excluded: end to end at least 70 % of the forward pass's own
rate in the same precision; bfloat16 at least 1.5x float32 end to end on a CPU with native bfloat16. bfloat16
is timed only where the CPU computes it natively (gzmorph.models.precision); elsewhere the line says so.
The models default to the released model; the images are read where they lie (the first read of each file
is made before timing, so the disk's cache is warm for every set-up alike).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import gzmorph.quiet_tensorflow  # noqa: E402, F401
from gzmorph.data.decoding import load_galaxy  # noqa: E402
from gzmorph.data.inputs import file_inputs  # noqa: E402
from gzmorph.inference.output import open_output  # noqa: E402
from gzmorph.inference.streaming import predict_into, run_record  # noqa: E402
from gzmorph.inference.table import prediction_rows  # noqa: E402
from gzmorph.models.familiarity import single_band  # noqa: E402
from gzmorph.models.folder import ModelsFolder  # noqa: E402
from gzmorph.models.forward import captions_from, pooled_features, predict_with_features  # noqa: E402
from gzmorph.models.loaded import load_models, predict_images  # noqa: E402
from gzmorph.models.precision import native_bfloat16  # noqa: E402
from gzmorph.paths import real_gz2  # noqa: E402
from gzmorph.threads import pin_threads  # noqa: E402

KAGGLE_IMAGES = real_gz2("kaggle") / "images_training_rev1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="a models folder (default: the released model)")
    parser.add_argument("--images", type=Path, default=KAGGLE_IMAGES, help="folder of real JPEGs")
    parser.add_argument("--count", type=int, default=2048, help="images per timed run")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3, help="timings of each set-up, interleaved; medians kept")
    parser.add_argument("--output", default=".csv", choices=(".csv", ".parquet", ".json"),
                        help="the output format written end to end")
    return parser.parse_args()


def cpu_name() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown CPU"


@contextmanager
def timed(spent: dict, name: str):
    start = time.perf_counter()
    yield
    spent[name] = spent.get(name, 0.0) + time.perf_counter() - start


def end_to_end(paths, models, settings, batch_size: int, suffix: str) -> float:
    """images/s of the command's own run into a fresh output file, the first batch's tracing left out."""
    with tempfile.TemporaryDirectory() as scratch:
        predict_into(Path(scratch) / f"warm{suffix}", file_inputs(paths[:batch_size]), models, settings, batch_size)
        start = time.perf_counter()
        predict_into(Path(scratch) / f"run{suffix}", file_inputs(paths), models, settings, batch_size)
        return len(paths) / (time.perf_counter() - start)


def where_time_goes(paths, models, settings, batch_size: int, suffix: str) -> dict:
    """Each step of the run alone, one after the other, in seconds for all the images: decode (one thread),
    forward pass, familiarity, beam search, making rows, writing them."""
    spent: dict = {}
    with timed(spent, "decode (1 thread)"):
        images = np.stack([load_galaxy(p, settings.image.crop, models.pixels) for p in paths])
    inference = settings.inference
    with tempfile.TemporaryDirectory() as scratch:
        with open_output(Path(scratch) / f"t{suffix}", run_record(models, settings, False), "file") as out:
            for start in range(0, len(paths), batch_size):
                batch = images[start:start + batch_size]
                with timed(spent, "forward"):
                    outputs = predict_with_features(models.predictor, batch, False)
                with timed(spent, "familiarity"):
                    models.familiarity.scores(batch, pooled_features(outputs)), single_band(batch)
                if models.captioner:
                    with timed(spent, "beam search"):
                        captions_from(models.captioner, outputs, inference.beam_width, inference.length_penalty,
                                      np.zeros(len(batch), int))
                predictions = predict_images(replace(models, captioner=None), batch, settings)
                with timed(spent, "rows"):
                    rows = prediction_rows(predictions, models.vote_columns, models.folder.name,
                                           paths[start:start + batch_size])
                with timed(spent, f"writing {suffix}"):
                    out.append(rows)
    return spent


def forward_rate(models, images: np.ndarray, batch_size: int) -> float:
    predict_with_features(models.predictor, images[:batch_size], False)
    start = time.perf_counter()
    for first in range(0, len(images), batch_size):
        predict_with_features(models.predictor, images[first:first + batch_size], False)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    pin_threads(2)  # as gzmorph predict: params.yaml's threads
    paths = sorted(args.images.iterdir())[:args.count]
    for path in paths:
        path.read_bytes()  # the disk's cache warm for every set-up
    native = native_bfloat16()
    print(f"{len(paths)} real JPEGs, batch {args.batch_size}, {os.cpu_count()} CPUs: {cpu_name()}; "
          f"native bfloat16: {native}; output {args.output}")
    precisions = ["float32", "bfloat16"] if native else ["float32"]
    if not native:
        print("bfloat16: not timed, this CPU would emulate it (gzmorph predict runs float32 here)")
    folder = ModelsFolder.named(args.models)
    setups = {}
    for precision in precisions:
        for captions in (False, True):
            models = load_models(folder, captions, precision)
            settings = models.settings()
            settings = settings.model_copy(update={"inference": replace(settings.inference, tta=False)})
            setups[precision, captions] = models, settings
    images = np.stack([load_galaxy(p, settings.image.crop, models.pixels) for p in paths])
    # Each set-up is timed in every round, the rounds interleaved, and the median kept: a machine whose load
    # drifts (other processes) moves every set-up alike.
    timings = {setup: ([], []) for setup in setups}
    for _ in range(args.rounds):
        for setup, (models, settings) in setups.items():
            timings[setup][0].append(forward_rate(models, images, args.batch_size))
            timings[setup][1].append(end_to_end(paths, models, settings, args.batch_size, args.output))
    rates = {}
    for (precision, captions), (forwards, wholes) in timings.items():
        forward, whole = float(np.median(forwards)), float(np.median(wholes))
        rates[precision, captions] = whole
        label = f"{precision:8} {'with captions' if captions else 'no captions':13}"
        print(f"{label} end to end {whole:6.0f} images/s; forward pass alone {forward:6.0f} images/s; "
              f"end to end / forward {whole / forward:.0%} (medians of {args.rounds} rounds)")
        models, settings = setups[precision, captions]
        spent = where_time_goes(paths, models, settings, args.batch_size, args.output)
        print("    where the time goes, each step alone (ms an image): " + ", ".join(
            f"{name} {1000 * seconds / len(paths):.2f}" for name, seconds in spent.items()))
    if native:
        for captions in (False, True):
            print(f"bfloat16 / float32 end to end, {'with' if captions else 'no'} captions: "
                  f"{rates['bfloat16', captions] / rates['float32', captions]:.2f}x")


if __name__ == "__main__":
    main()
