"""The pipeline on real GZ2 galaxies: ../shared/gz2/kaggle with the committed params and the real-data
recipe (REAL_DATA below), scored on its own held-out test split, then the same models scored on
../shared/gz2/hart16 (another GZ2 image release).

    python benchmarks/bench_real.py [--data DIR] [--other DIR] [--keep DIR]
    python benchmarks/bench_real.py --set train_classifier.epochs=60      # another recipe

Runs in a temporary copy of the repository (nothing is written into the project) and prints the
classifier and captioner metrics, the training times, and the hart16 figures.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gzmorph.params import set_params
from gzmorph.paths import real_gz2

REPO = Path(__file__).resolve().parents[1]
STAGES = ("clean_labels", "split", "build_captions", "train_classifier", "train_captioner", "evaluate")
CLASSES = ("spiral", "elliptical", "edge-on", "merger", "ambiguous")
# What real data changes in params.yaml, whose defaults suit the 1,500-galaxy sample: on 4,000 galaxies,
# three times the sample's epochs still gain (docs/results.md).
REAL_DATA = {"train_classifier.epochs": "90"}


def run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def project_copy(root: Path, data: Path, changes: dict[str, str]) -> None:
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    for name in ("stages", "src", ".dvc"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "tmp", "cache"))
    set_params(root / "params.yaml", {"data.raw_dir": str(data.resolve()), **changes})
    run(["git", "init", "-q"], root)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    run([*git, "add", "-A"], root)
    run([*git, "commit", "-qm", "the benchmark's copy"], root)  # DVCLive reads HEAD


def timed_stages(root: Path) -> dict[str, float]:
    seconds = {}
    for stage in STAGES:
        start = time.perf_counter()
        run(["dvc", "repro", "--single-item", stage], root)
        seconds[stage] = time.perf_counter() - start
    return seconds


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
                                 "--models", "models"], root))
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=real_gz2("kaggle"))
    parser.add_argument("--other", type=Path, default=real_gz2("hart16"))
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it, instead of a temporary one")
    parser.add_argument("--set", nargs="+", action="extend", default=[], type=key_value, metavar="KEY=VALUE",
                        help="params over the committed ones and REAL_DATA, e.g. train_classifier.epochs=60")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True)
        root = args.keep
    else:
        root = Path(tempfile.mkdtemp(prefix="gzmorph-bench-"))
    project_copy(root, args.data, {**REAL_DATA, **dict(args.set)})
    seconds = timed_stages(root)
    report(root, seconds, args.other if args.other.exists() else None)
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
