"""Benchmark classifier training throughput under tf.distribute: 1 device (default strategy) against
2 logical devices (MirroredStrategy), and the PyDataset against the tf.data stream on one device.

    .venv/bin/python benchmarks/bench_distribute.py [--images 2000] [--size 64] [--width 32] [--epochs 2]

Each configuration runs in its own process, as logical devices must be set before TensorFlow starts.
It trains with gzmorph's own fit_classifier on synthetic packed images in a temporary folder for
1 + --epochs epochs and times the last --epochs (the first one traces the model); a small validation
pass (one global batch) runs after each epoch, as in the stage.
On a CPU the two logical devices share the same cores, so expect no speed-up there: the figure that
matters comes from a machine with several GPUs (MirroredStrategy takes every local GPU).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf  # imported, not started: logical devices can still be set

from gzmorph.data.packed_splits import load_split, split_paths
from gzmorph.gz2.rule import CLASSES
from gzmorph.params import ClassifierParams
from gzmorph.training import classifier as classifier_training
from gzmorph.training import distribute

CONFIGS = [  # (logical devices, strategy, input pipeline)
    (1, "default", "pydataset"),
    (1, "default", "stream"),
    (2, "mirrored", "stream"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="training images")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64, help="per replica")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs")
    parser.add_argument("--child", nargs=3, metavar=("DEVICES", "STRATEGY", "PIPELINE"), help=argparse.SUPPRESS)
    return parser.parse_args()


class EpochEnds(keras.callbacks.Callback):
    """In the place of fit_classifier's curves logger: notes when each epoch ends."""

    times: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        EpochEnds.times.append(time.perf_counter())


def synthetic_split(folder: Path, name: str, n: int, size: int, seed: int):
    """A packed split on disk, memory-mapped back as the pipeline reads it."""
    images_file, table_file = split_paths(folder, name)
    rng = np.random.default_rng(seed)
    images = np.lib.format.open_memmap(images_file, mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    images[:] = rng.integers(0, 256, images.shape, dtype=np.uint8)
    images.flush()
    del images
    pd.DataFrame({"GalaxyID": np.arange(n), "class": rng.choice(CLASSES, n),
                  "Class1.1": rng.random(n)}).to_csv(table_file, index=False)
    return load_split(folder, name)


def child(args: argparse.Namespace) -> None:
    devices, strategy, pipeline = int(args.child[0]), args.child[1], args.child[2]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
    classifier_training.curves_logger = lambda *args, **kwargs: [EpochEnds()]  # fit_classifier unpacks a list
    if pipeline == "stream":  # the tf.data stream under any strategy, to compare it with the PyDataset
        classifier_training.batches_for = lambda _, *data, **options: distribute.stream(*data, **options)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train = synthetic_split(folder, "train", args.images, args.size, 0)
        val = synthetic_split(folder, "val", args.batch_size * devices, args.size, 1)
        epochs = 1 + args.epochs
        params = ClassifierParams(width=args.width, epochs=epochs, batch_size=args.batch_size, strategy=strategy,
                                  checkpoint_dir=str(folder / "ckpt"))
        classifier_training.fit_classifier(train, val, params, 0, folder / "curves")
    rate = args.epochs * args.images / (EpochEnds.times[-1] - EpochEnds.times[0])
    print("RESULT " + json.dumps({"devices": devices, "strategy": strategy, "pipeline": pipeline,
                                  "images_per_s": round(rate, 1)}))


def main() -> None:
    args = parse_args()
    if args.child:
        return child(args)
    options = ["--images", str(args.images), "--size", str(args.size), "--width", str(args.width),
               "--batch-size", str(args.batch_size), "--epochs", str(args.epochs)]
    print(f"{args.images} images of {args.size} px, width {args.width}, batch {args.batch_size} per replica")
    for devices, strategy, pipeline in CONFIGS:
        done = subprocess.run([sys.executable, __file__, *options, "--child", str(devices), strategy, pipeline],
                              capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.split("RESULT ")[-1])
        print(f"{devices} logical device(s), {strategy:8s} strategy, {pipeline:9s}: "
              f"{result['images_per_s']:7.1f} images/s")


if __name__ == "__main__":
    main()
