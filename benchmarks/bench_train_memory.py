"""Benchmark classifier training's peak memory as the training set grows 4x: it should stay flat (within
10%), as the packed images are read batch by batch from disk, never held whole.

    .venv/bin/python benchmarks/bench_train_memory.py [--images 2000] [--factor 4] [--width 16]

Packs --images real Kaggle JPEGs (centre crop 207, 64 px, as the split stage does), then writes a second
array --factor times longer by repeating them, both in a temporary folder. Each (pipeline, size) trains
one epoch in its own process, whose peak resident memory (VmHWM, the kernel's own figure) is reported
with the file pages still mapped at the end (RssFile): pages of a memory map count as resident once read.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.data.packed_splits import load_split, split_paths
from gzmorph.data.packing import pack_images
from gzmorph.gz2.rule import CLASSES, Rule, classify
from gzmorph.gz2.tree import ID_COLUMN, VOTE_COLUMNS
from gzmorph.paths import real_gz2

KAGGLE = real_gz2("kaggle")
PIPELINES = {"default": "PyDataset", "mirrored": "tf.data stream"}  # strategy -> what it reads through


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kaggle", type=Path, default=KAGGLE, help="folder in Kaggle's layout")
    parser.add_argument("--images", type=int, default=2000, help="real images in the small training set")
    parser.add_argument("--factor", type=int, default=4, help="how many times larger the large set is")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "STRATEGY"), help=argparse.SUPPRESS)
    return parser.parse_args()


def real_split(kaggle: Path, n: int, folder: Path) -> None:
    """The first ``n`` Kaggle galaxies, packed as the split stage packs them, with their votes and class."""
    table = pd.read_csv(kaggle / "training_solutions_rev1.csv")
    paths = [kaggle / "images_training_rev1" / f"{galaxy}.jpg" for galaxy in table[ID_COLUMN]]
    table = table[[path.is_file() for path in paths]].head(n)
    images_file, table_file = split_paths(folder, "train")
    pack_images([p for p in paths if p.is_file()][:n], images_file, crop=207, pixels=64, workers=2)
    votes = table[[column for column in VOTE_COLUMNS if column in table]]  # whole questions may be absent
    table.assign(**{"class": [CLASSES[c] for c in classify(votes, Rule())]}).to_csv(table_file, index=False)


def repeated_split(source: Path, factor: int, folder: Path) -> None:
    """``source``'s split ``factor`` times over, written row block by row block (never whole in memory)."""
    images = np.load(split_paths(source, "train")[0], mmap_mode="r")
    images_file, table_file = split_paths(folder, "train")
    out = np.lib.format.open_memmap(images_file, mode="w+", dtype=np.uint8,
                                    shape=(len(images) * factor, *images.shape[1:]))
    for copy in range(factor):
        out[copy * len(images):(copy + 1) * len(images)] = images
    out.flush()
    del out
    pd.concat([pd.read_csv(split_paths(source, "train")[1])] * factor).to_csv(table_file, index=False)


def child(folder: Path, strategy: str, args: argparse.Namespace) -> None:
    from gzmorph.params import ClassifierParams
    from gzmorph.training.classifier import fit_classifier

    train = load_split(folder, "train")
    val = load_split(folder.parent / "small", "train")
    val = type(val)(val.images[:args.batch_size], val.table.head(args.batch_size))
    params = ClassifierParams(width=args.width, epochs=1, batch_size=args.batch_size, strategy=strategy,
                              checkpoint_dir=str(folder / "ckpt"))
    fit_classifier(train, val, params, 0, folder / "curves")
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    print("RESULT " + json.dumps({key: int(status[key].split()[0]) // 1024 for key in ("VmHWM", "RssFile")}))


def measure(folder: Path, strategy: str, args: argparse.Namespace) -> dict:
    options = ["--width", str(args.width), "--batch-size", str(args.batch_size)]
    done = subprocess.run([sys.executable, __file__, *options, "--child", str(folder), strategy],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.split("RESULT ")[-1])


def main() -> None:
    args = parse_args()
    if args.child:
        return child(Path(args.child[0]), args.child[1], args)
    with tempfile.TemporaryDirectory(prefix="bench_train_memory_") as scratch:
        small, large = Path(scratch) / "small", Path(scratch) / "large"
        small.mkdir(), large.mkdir()
        real_split(args.kaggle, args.images, small)
        repeated_split(small, args.factor, large)
        sizes = {folder: len(load_split(folder, "train").table) for folder in (small, large)}
        print(f"one epoch, width {args.width}, batch {args.batch_size}, 64 px images")
        for strategy, pipeline in PIPELINES.items():
            peaks = {}
            for folder in (small, large):
                result = measure(folder, strategy, args)
                peaks[folder] = result["VmHWM"]
                print(f"{pipeline:15s} ({strategy} strategy), {sizes[folder]:6,} images: peak RSS "
                      f"{result['VmHWM']:5,} MiB, file pages mapped at the end {result['RssFile']:4,} MiB")
            print(f"{pipeline:15s}: {args.factor}x the images, peak RSS x{peaks[large] / peaks[small]:.3f}")


if __name__ == "__main__":
    main()
