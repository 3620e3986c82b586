"""Remakes the released model (models/released): the whole pipeline on real GZ2 galaxies with the real-data
recipe of benchmarks/bench_real.py, then its two models, the GalaxyIDs it used, its metrics and a model card
copied into the repository.

    python scripts/release_model.py [--data DIR] [--other DIR] [--keep DIR]
    python scripts/release_model.py --card        # rewrite README.md from the files already there

Commit first: the card names the commit the models came from. Takes about half an hour on 2 CPU cores.
The data default to $GZMORPH_REAL_DATA/kaggle (gzmorph.paths.real_gz2); --other (hart16 there) is another
image release the released models are also scored on, for the card's limits.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from gzmorph.gz2.rule import CLASSES
from gzmorph.io import write_json
from gzmorph.paths import (
    CAPTIONER,
    CAPTIONER_METRICS,
    CLASSIFIER,
    CLASSIFIER_METRICS,
    DATA_REPORT,
    MODELS,
    PARAMS,
    RELEASED,
    SPLIT_REPORT,
    SPLITS,
    real_gz2,
)

REPO = Path(__file__).resolve().parents[1]
MODEL_DIRS = (CLASSIFIER, CAPTIONER)
METRIC_FILES = (CLASSIFIER_METRICS, CAPTIONER_METRICS, DATA_REPORT, SPLIT_REPORT)
IDS, RUN, CARD = "galaxy_ids.csv", "release.json", "README.md"
OTHER = "hart16.json"  # the other image release's scores, in metrics/
MAX_BYTES = 5_000_000  # each file, so that git carries it without LFS
HEADLINE = ("accuracy", "f1_weighted", "f1_macro", "vote_rmse")


def bench_real():
    spec = importlib.util.spec_from_file_location("bench_real", REPO / "benchmarks" / "bench_real.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train(bench, data: Path, root: Path) -> dict[str, float]:
    bench.project_copy(root, data, bench.REAL_DATA)
    return bench.timed_stages(root)


def copy_outputs(root: Path, release: Path, data: Path) -> None:
    if release.exists():
        shutil.rmtree(release)
    for folder in MODEL_DIRS:
        shutil.copytree(root / folder, release / folder.relative_to(MODELS))
    # The record names the data by this machine's path; the released one by what it is, anywhere.
    meta = release / CLASSIFIER.relative_to(MODELS) / "meta.json"
    record = json.loads(meta.read_text())
    record["trained_on"] = f"real GZ2: the Kaggle subset in {data.name}/ ({RELEASED}/{IDS})"
    write_json(meta, record)
    (release / "metrics").mkdir()
    for file in METRIC_FILES:
        shutil.copy(root / file, release / "metrics" / file.name)
    shutil.copy(root / SPLITS, release / IDS)
    shutil.copy(root / PARAMS, release / PARAMS.name)


def commit_state() -> str:
    """HEAD, and whether the code the copy takes differs from it: read before the copy is made."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "src", "stages", "params.yaml", "dvc.yaml"],
                           cwd=REPO, capture_output=True, text=True).stdout.strip()
    return commit.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def run_facts(root: Path, data: Path, commit: str, recipe: dict, seconds: dict[str, float]) -> dict:
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    raw = {Path(dep["path"]).name: dep["md5"] for dep in lock["stages"]["clean_labels"]["deps"]
           if dep["path"].startswith(str(data.resolve()))}
    return {"command": "python scripts/release_model.py", "commit": commit,
            "date": time.strftime("%Y-%m-%d"), "data": data.name, "data_md5_dvc": raw,
            "recipe": recipe, "cpu": cpu_name(), "cores": len(os.sched_getaffinity(0)),
            "stage_seconds": {stage: round(s) for stage, s in seconds.items()}}


def cpu_name() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                platform.processor())
    return name + (" (AVX512-BF16)" if "avx512_bf16" in info else "")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def released_files(release: Path) -> list[Path]:
    return sorted(p for p in release.rglob("*") if p.is_file() and p.name != CARD)


def figure(metrics: dict, key: str) -> str:
    interval = metrics.get("ci95", {}).get(key)
    return f"{metrics[key]}" + (f" ({interval['low']}–{interval['high']})" if interval else "")


def card(release: Path) -> str:
    """The model card, made from the released files alone: a test remakes it and compares."""
    facts = json.loads((release / RUN).read_text())
    metrics = {f.stem: json.loads((release / "metrics" / f.name).read_text()) for f in METRIC_FILES}
    classifier, captioner, report, splits = (metrics[f.stem] for f in METRIC_FILES)
    record = json.loads((release / "classifier" / "meta.json").read_text())
    columns = record["decision"]["vote_columns"]
    counts = " | ".join(str(splits[f"{split}_galaxies"]) for split in ("train", "val", "test"))
    per_class = "\n".join(f"| {c} | " + " | ".join(str(splits[f"{s}_{c}"]) for s in ("train", "val", "test")) + " |"
                          for c in CLASSES)
    files = "\n".join(f"| `{p.relative_to(release)}` | {p.stat().st_size:,} | `{sha256(p)[:16]}` |"
                      for p in released_files(release))
    recipe = ", ".join(f"`{k}: {v}`" for k, v in facts["recipe"].items())
    return f"""# Released model: gzmorph on real Galaxy Zoo 2 galaxies

The classifier and captioner that `gzmorph predict` and `gzmorph evaluate` use unless `--models` names
another folder, and the starting point for fine-tuning (`train_classifier.init: {RELEASED}`).

## What it learnt from

- **Data:** the 4,000-galaxy Kaggle GZ2 subset (`{Path(facts['data']).name}`: Kaggle's
  `images_training_rev1` JPEGs and `training_solutions_rev1.csv`), {report['rows_kept']} galaxies kept of
  {report['rows_read']}. DVC's hashes of the data: {', '.join(f"{k} `{v}`" for k, v in facts['data_md5_dvc'].items())}.
- **Vote columns ({len(columns)} of 37):** {', '.join(columns)}.
- **GalaxyIDs:** `{IDS}`, each with its class and split (the images and vote tables are not in the repository).
- **Galaxies per split (train | val | test):** {counts}

| class | train | val | test |
| --- | --- | --- | --- |
{per_class}

## How it was made

- **Command:** `{facts['command']}` at commit {facts['commit']}, {facts['date']}.
- **Params:** `params.yaml` here: the committed defaults with the real-data recipe {recipe}.
- **Machine:** {facts['cpu']}, {facts['cores']} cores, no GPU; stage seconds:
  {', '.join(f"{k} {v}" for k, v in facts['stage_seconds'].items())}.

## How well it does, on its own held-out test split ({splits['test_galaxies']} galaxies; 95 % bootstrap intervals)

| figure | value |
| --- | --- |
{chr(10).join(f"| {key} | {figure(classifier, key)} |" for key in HEADLINE)}
| vote RMSE, training-mean constant | {classifier['vote_rmse_constant']} |
| captions: beam BLEU-4 | {figure(captioner, 'bleu4')} |
| captions: class agreement | {captioner['class_agreement']} |

Per-class figures: `metrics/classifier.json`; the class decision: `classifier/meta.json`
(`class_from: {record['decision']['class_from']}`).

## Limits

- It predicts all 37 vote fractions, but learnt only the {len(columns)} columns above: the bar, spiral-arm,
  bulge, edge-on bulge, arm-winding and arm-count answers are untrained and the output leaves them out;
  its captions never mention spiral arms or bars.
- It learnt from Kaggle's SDSS cut-outs (424 px, 207 px centre crop, 64 px input). Another image release
  scores lower: {other_release(release)}; fine-tune on your own labels for such images (README).
- Mergers and ambiguous galaxies are few in its training data; their recall is low
  (`metrics/classifier.json`).

## Files

| file | bytes | sha256 (first 16) |
| --- | --- | --- |
{files}
"""


def score_other(release: Path, other: Path) -> None:
    """The released models on another image release (all of its galaxies), as `gzmorph evaluate` scores them."""
    done = subprocess.run([sys.executable, "-m", "gzmorph", "evaluate", "--data", str(other), "--models",
                           str(release), "--output", str(release / "metrics" / OTHER)], cwd=REPO, capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"gzmorph evaluate --data {other} failed:\n{done.stderr[-2000:]}")


def other_release(release: Path) -> str:
    scores = json.loads((release / "metrics" / OTHER).read_text())["classifier"]
    galaxies = sum(c["support"] for c in scores["classes"].values())
    return (f"on {galaxies} Hart et al. (2016) galaxies of the GZ2 `images_gz2` release (`metrics/{OTHER}`) it "
            f"scores accuracy {scores['accuracy']}, weighted F1 {scores['f1_weighted']} and macro F1 "
            f"{scores['f1_macro']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=real_gz2("kaggle"))
    parser.add_argument("--other", type=Path, default=real_gz2("hart16"))
    parser.add_argument("--keep", type=Path, help="train in this folder and keep it, instead of a temporary one")
    parser.add_argument("--card", action="store_true", help="only rewrite the card from the released files")
    args = parser.parse_args()
    release = REPO / RELEASED
    if not args.card:
        root = args.keep or Path(tempfile.mkdtemp(prefix="gzmorph-release-"))
        root.mkdir(parents=True, exist_ok=True)
        # bench_real is loaded once: the code may change while the models train, and a second load
        # would mix its new imports with the modules this process has already loaded.
        bench, commit = bench_real(), commit_state()
        seconds = train(bench, args.data, root)
        copy_outputs(root, release, args.data)
        facts = run_facts(root, args.data, commit, bench.REAL_DATA, seconds)
        (release / RUN).write_text(json.dumps(facts, indent=2) + "\n")
        score_other(release, args.other)
        if not args.keep:
            shutil.rmtree(root)
    (release / CARD).write_text(card(release))
    too_big = [p for p in released_files(release) if p.stat().st_size > MAX_BYTES]
    if too_big:
        sys.exit(f"over {MAX_BYTES:,} bytes: {', '.join(map(str, too_big))}")
    print(f"released -> {release}")


if __name__ == "__main__":
    main()
