"""How far the headline metrics move under conditions that change the arithmetic but not the recipe:
reruns the training and evaluate stages once per condition, each in a scratch clone of HEAD (as
scripts/check_reproducible.py does), and prints a Markdown table with HEAD's committed row first.

    python scripts/spread.py                      # the conditions of docs/reproducibility.md
    python scripts/spread.py --only seed=1 threads=1

A condition is ENV=VALUE (an environment variable for the stages) or a dotted param=value (set in the
clone's params.yaml); several, comma-separated, make one condition.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from gzmorph.devtools.project import REPO, exit_on_failure
from gzmorph.devtools.reproduce import METRICS, clone, committed, rerun
from gzmorph.params import set_params

CONDITIONS = (
    "ONEDNN_MAX_CPU_ISA=AVX2",  # an AVX2-only CPU's kernels
    "TF_ENABLE_ONEDNN_OPTS=0",  # TensorFlow's Eigen kernels instead of oneDNN's
    "threads=1",
    "seed=1",
)
HEADLINE = ("accuracy", "f1_weighted", "f1_macro", "vote_rmse", "bleu4", "class_agreement")


def headline(read) -> dict[str, float]:
    """The headline figures of both metrics files; ``read`` maps a path to its text."""
    merged = {}
    for path in METRICS:
        merged.update(json.loads(read(path)))
    return {key: merged[key] for key in HEADLINE}


def condition_type(text: str) -> str:
    if not all("=" in pair for pair in text.split(",")):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE[,KEY=VALUE...]")
    return text


def run_condition(condition: str, scratch: Path) -> dict[str, float]:
    env, params = {}, {}
    for pair in condition.split(","):
        key, value = pair.split("=", 1)
        (env if key.isupper() else params)[key] = value
    root = clone(REPO, scratch / condition.replace("=", "-").replace(",", "_"))
    set_params(root / "params.yaml", params)
    rerun(root, env)
    return headline(lambda path: (root / path).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=CONDITIONS, type=condition_type, help="the conditions to run")
    args = parser.parse_args()
    rows = {"committed (HEAD)": headline(lambda path: committed(REPO, path))}
    with tempfile.TemporaryDirectory() as scratch:
        for condition in args.only:
            rows[condition] = run_condition(condition, Path(scratch))
            print(f"{condition}: {rows[condition]}", flush=True)
    print("\n| condition | " + " | ".join(HEADLINE) + " |\n|---|" + "---|" * len(HEADLINE))
    for name, figures in rows.items():
        print(f"| {name} | " + " | ".join(f"{figures[k]:.4f}" for k in HEADLINE) + " |")
    spread = {k: max(r[k] for r in rows.values()) - min(r[k] for r in rows.values()) for k in HEADLINE}
    print("| max - min | " + " | ".join(f"{spread[k]:.4f}" for k in HEADLINE) + " |")


if __name__ == "__main__":
    exit_on_failure(main)
