"""The pipeline on real GZ2 galaxies: ../shared/gz2/kaggle with the committed params and the real-data
recipe (src/gzmorph/devtools/real_data.yaml), scored on its own held-out test split, then the same models scored on
../shared/gz2/hart16 (another GZ2 image release).

    python benchmarks/bench_real.py [--data DIR] [--other DIR] [--keep DIR]
    python benchmarks/bench_real.py --set train_classifier.epochs=60      # another recipe

Runs in a temporary copy of the repository (nothing is written into the project) and prints the
classifier and captioner metrics, the training times, and the hart16 figures.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from gzmorph.devtools.project import copy_project, exit_on_failure, real_data_parser, run, timed_stages
from gzmorph.devtools.recipe import REAL_DATA
from gzmorph.gz2.rule import CLASSES


def report(root: Path, seconds: dict[str, float], other: Path | None) -> None:
    classifier = json.loads((root / "metrics/classifier.json").read_text())
    captioner = json.loads((root / "metrics/captioner.json").read_text())
    print("stage seconds: " + ", ".join(f"{s} {t:.0f}" for s, t in seconds.items()))
    print(f"test galaxies: {sum(classifier['classes'][c]['support'] for c in CLASSES)}")
    for key in ("accuracy", "f1_weighted", "f1_macro", "vote_rmse", "vote_rmse_constant"):
        interval = classifier["ci95"].get(key)
        print(f"{key}: {classifier[key]}" + (f" ({interval['low']}-{interval['high']})" if interval else ""))
    print("recall: " + ", ".join(f"{c} {classifier['classes'][c]['recall']}" for c in CLASSES))
    for decoder, scores in (("greedy", captioner["greedy"]), ("beam", captioner)):  # the beam's lead the file
        print(f"{decoder} BLEU-1..4: " + "/".join(str(scores[f"bleu{n}"]) for n in range(1, 5))
              + f", top3 share {scores['top3_share']}, class agreement {scores['class_agreement']}")
    print(f"references top3 share: {captioner['references']['top3_share']}")
    if other is not None:
        scores = json.loads(run([sys.executable, "-m", "gzmorph", "evaluate", "--data", str(other.resolve()),
                                 "--models", "models"], root).stdout)
        c = scores["classifier"]
        print(f"{other.name}: accuracy {c['accuracy']}, f1_weighted {c['f1_weighted']}, f1_macro {c['f1_macro']}, "
              f"vote_rmse {c['vote_rmse']} (constant {c['vote_rmse_constant']}), recall "
              + ", ".join(f"{k} {c['classes'][k]['recall']}" for k in CLASSES))
        b = scores["captioner"]
        print(f"{other.name} beam BLEU-1..4: " + "/".join(str(b[f"bleu{n}"]) for n in range(1, 5)))


def key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    key, value = text.split("=", 1)
    return key, value


def main() -> None:
    parser = real_data_parser(__doc__)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it, instead of a temporary one")
    parser.add_argument("--set", nargs="+", action="extend", default=[], type=key_value, metavar="KEY=VALUE",
                        help="params over the committed ones and the real-data recipe, e.g. train_classifier.epochs=60")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True)
        root = args.keep
    else:
        root = Path(tempfile.mkdtemp(prefix="gzmorph-bench-"))
    copy_project(root, {"data.raw_dir": str(args.data.resolve()), **REAL_DATA, **dict(args.set)},
                 message="the benchmark's copy")
    seconds = timed_stages(root)
    report(root, seconds, args.other if args.other.exists() else None)
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    exit_on_failure(main)
