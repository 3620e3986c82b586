"""Remakes the released model (models/released): the whole pipeline on real GZ2 galaxies with the real-data
recipe (src/gzmorph/devtools/real_data.yaml), then its two models, the GalaxyIDs it used, its metrics and a model card
copied into the repository.

    python scripts/release_model.py [--data DIR] [--other DIR] [--keep DIR]
    python scripts/release_model.py --card        # rewrite README.md from the files already there
    python scripts/release_model.py --familiarity # measure the statistics of its training galaxies anew

Commit first: the card names the commit the models came from. Takes about half an hour on 2 CPU cores.
The data default to $GZMORPH_REAL_DATA/kaggle (gzmorph.paths.real_gz2); --other (hart16 there) is another
catalogue, which teaches the questions the first one lacks (data.more_sources) and is scored on its own test split.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import gzmorph.quiet_tensorflow  # noqa: F401, I001  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.decoding import load_galaxy
from gzmorph.data.files import kaggle_layout
from gzmorph.data.packed_splits import Split
from gzmorph.devtools.project import (
    REPO,
    copy_project,
    exit_on_failure,
    lacking_questions,
    real_data_parser,
    run,
    timed_stages,
)
from gzmorph.devtools.recipe import REAL_DATA
from gzmorph.devtools.release import MAX_BYTES, too_big
from gzmorph.models.card import model_card
from gzmorph.models.familiarity import save_familiarity
from gzmorph.models.files import ClassifierRecord
from gzmorph.models.folder import PIPELINE, ModelsFolder
from gzmorph.models.loaded import load_models
from gzmorph.params import Params, set_params
from gzmorph.paths import (
    CAPTIONER_METRICS,
    CLASSIFIER_METRICS,
    DATA_REPORT,
    PARAMS,
    SPLIT_REPORT,
    SPLIT_TABLE,
)
from gzmorph.training.classifier import familiarity_of

RELEASE = ModelsFolder.released()  # in this clone: models/released, which pyproject.toml packs
METRIC_FILES = (CLASSIFIER_METRICS, CAPTIONER_METRICS, DATA_REPORT, SPLIT_REPORT)


def train(data: Path, other: Path, root: Path) -> dict[str, float]:
    """The pipeline on ``data``, with ``other`` teaching the questions ``data``'s table lacks."""
    copy_project(root, {"data.raw_dir": str(data.resolve()), "data.more_sources": json.dumps(
        [{"raw_dir": str(other.resolve()), "questions": lacking_questions(data, other)}]), **REAL_DATA},
        message="the release's copy")
    return timed_stages(root)


def copy_outputs(root: Path, release: ModelsFolder, data: Path, other: Path) -> None:
    """The trained folder's models, metrics, GalaxyIDs and params, each named by what it is, not by where
    it lay on this machine."""
    trained = ModelsFolder(root / PIPELINE.root)
    for folder in (release.classifier, release.captioner, release.metrics):
        if folder.exists():
            shutil.rmtree(folder)
    shutil.copytree(trained.classifier, release.classifier)
    shutil.copytree(trained.captioner, release.captioner)
    record = release.record(ClassifierRecord, "")
    release.rewrite_record(replace(
        record, trained_on=f"real GZ2: the Kaggle subset in {data.name}/, and questions "
                           f"{', '.join(map(str, lacking_questions(data, other)))} from {other.name}/ "
                           f"(models/released/{release.galaxy_ids.name})"))
    release.metrics.mkdir()
    for file in METRIC_FILES:
        shutil.copy(root / file, release.metrics / file.name)
    shutil.copy(root / SPLIT_TABLE, release.galaxy_ids)
    more = [{"raw_dir": other.name, "questions": lacking_questions(data, other)}]
    set_params(release.params, {"data.raw_dir": data.name, "data.more_sources": more}, source=root / PARAMS)


def commit_state() -> str:
    """HEAD, and whether the code the copy takes differs from it: read before the copy is made."""
    commit = run(["git", "rev-parse", "--short", "HEAD"], REPO, ok=None)
    dirty = run(["git", "status", "--porcelain", "src", "stages", "params.yaml", "dvc.yaml"], REPO,
                ok=None).stdout.strip()
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


def measure_familiarity(release: ModelsFolder, data: Path) -> None:
    """The released classifier's familiarity statistics from its own train and val galaxies (galaxy_ids.csv),
    decoded as the split stage decoded them: what train_classifier writes, for a release made before it did."""
    models = load_models(release, captions=False)
    image_dir, _ = kaggle_layout(data, Params().data.images, Params().data.solutions)
    galaxies = pd.read_csv(release.galaxy_ids)
    splits = {}
    for name in ("train", "val"):
        ids = galaxies.loc[galaxies["split"] == name, "GalaxyID"]
        images = np.stack([load_galaxy(image_dir / f"{galaxy}.jpg", models.crop, models.pixels) for galaxy in ids])
        splits[name] = Split(images, galaxies.loc[ids.index].reset_index(drop=True))
    save_familiarity(release.familiarity, familiarity_of(models.classifier.model, splits["train"], splits["val"]))


def main() -> None:
    parser = real_data_parser(__doc__)
    parser.add_argument("--keep", type=Path, help="train in this folder and keep it, instead of a temporary one")
    parser.add_argument("--card", action="store_true", help="only rewrite the card from the released files")
    parser.add_argument("--familiarity", action="store_true",
                        help="only measure the familiarity statistics of the released classifier's training galaxies")
    args = parser.parse_args()
    release = RELEASE
    if args.familiarity:
        measure_familiarity(release, args.data)
    elif not args.card:
        root = args.keep or Path(tempfile.mkdtemp(prefix="gzmorph-release-"))
        root.mkdir(parents=True, exist_ok=True)
        commit = commit_state()
        seconds = train(args.data, args.other, root)
        copy_outputs(root, release, args.data, args.other)
        facts = run_facts(root, args.data, commit, REAL_DATA, seconds)
        release.run.write_text(json.dumps(facts, indent=2) + "\n")
        if not args.keep:
            shutil.rmtree(root)
    release.card.write_text(model_card(release))
    oversized = too_big(release)
    if oversized:
        sys.exit(f"over {MAX_BYTES:,} bytes: {', '.join(map(str, oversized))}")
    print(f"released -> {release.root}")


if __name__ == "__main__":
    exit_on_failure(main)
