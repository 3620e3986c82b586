"""Benchmark bfloat16 prediction against float32 on the released model's held-out Kaggle test split: how often
the classes agree and the largest difference in a class probability (and in a vote fraction), as `gzmorph
predict` answers each way (the default, bfloat16 where native, and --float32).

    .venv/bin/python benchmarks/bench_precision.py [--data ../shared/gz2/kaggle]

Target (issue 34): classes agree on >= 99 % of galaxies, probabilities within 0.05. Runs only where the CPU
computes bfloat16 natively: elsewhere gzmorph never predicts in it.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import gzmorph
import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.gz2.rule import CLASSES
from gzmorph.models.folder import ModelsFolder
from gzmorph.models.precision import native_bfloat16
from gzmorph.paths import real_gz2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=real_gz2("kaggle"))
    args = parser.parse_args()
    if not native_bfloat16():
        raise SystemExit("this CPU has no native bfloat16: gzmorph predicts in float32 here, nothing to compare")
    ids = pd.read_csv(ModelsFolder.released().galaxy_ids, dtype={"GalaxyID": str})
    test = ids[ids["split"] == "test"]["GalaxyID"]
    files = [f"{args.data}/images_training_rev1/{galaxy}.jpg" for galaxy in test]
    answers = {precision: gzmorph.load(precision=precision).predict(files) for precision in ("float32", "bfloat16")}
    exact, fast = answers["float32"], answers["bfloat16"]
    probabilities = [f"p_{name}" for name in CLASSES]
    votes = [c for c in exact.columns if c.startswith("Class")]
    differ = int((exact["class"] != fast["class"]).sum())
    largest = {name: np.abs(exact[columns] - fast[columns]).to_numpy().max()
               for name, columns in (("class-probability", probabilities), ("vote-fraction", votes))}
    print(f"{len(exact)} test galaxies: classes agree on {1 - differ / len(exact):.1%} ({differ} differ); "
          + "; ".join(f"largest {name} difference {value:.4f}" for name, value in largest.items())
          + f"; captions agree on {(exact['caption'] == fast['caption']).mean():.1%}")


if __name__ == "__main__":
    main()
