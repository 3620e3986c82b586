"""The whole pipeline through DVC, on a tiny subset of the embedded sample (slow: about two minutes)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
TINY = {"train_classifier": {"epochs": 1, "width": 8}, "train_captioner": {"epochs": 1, "units": 32},
        "split": {"workers": 1}, "evaluate": {"examples_per_class": 1}}


def run(args, cwd) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def tiny_project(root: Path, n_galaxies: int = 160) -> Path:
    """A git + DVC repository holding the pipeline and the first galaxies of the sample, tiny params."""
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    for name in ("stages", "src", ".dvc"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "tmp", "cache"))
    table = pd.read_csv(SAMPLE / "training_solutions_rev1.csv", dtype=str).head(n_galaxies)
    images = root / "data" / "sample" / "images_training_rev1"
    images.mkdir(parents=True)
    table.to_csv(root / "data" / "sample" / "training_solutions_rev1.csv", index=False)
    for galaxy in table["GalaxyID"]:
        shutil.copy(SAMPLE / "images_training_rev1" / f"{galaxy}.jpg", images)
    params = yaml.safe_load((root / "params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny"], root)
    return root


@pytest.mark.slow
def test_dvc_repro_then_an_experiment_reruns_only_what_changed(tmp_path):
    root = tiny_project(tmp_path)
    run(["dvc", "repro"], root)

    classifier = json.loads((root / "metrics/classifier.json").read_text())
    captioner = json.loads((root / "metrics/captioner.json").read_text())
    report = json.loads((root / "metrics/data_report.json").read_text())
    assert {"accuracy", "f1_weighted", "f1_macro", "merger_recall", "vote_rmse"} <= classifier.keys()
    assert {f"{d}_bleu{n}" for d in ("greedy", "beam") for n in range(1, 5)} <= captioner.keys()
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"] == 160
    for plot in ("confusion.csv", "confusion.png", "gallery.png", "gradcam.png", "train_classifier.csv"):
        assert (root / "plots" / plot).stat().st_size > 0
    assert run(["dvc", "status"], root).strip().endswith("Data and pipelines are up to date.")

    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline"], root)
    log = run(["dvc", "exp", "run", "-S", "train_captioner.epochs=2"], root)
    ran = {stage for stage in ("clean_labels", "split", "build_captions", "train_classifier",
                               "train_captioner", "evaluate") if f"Running stage '{stage}'" in log}
    assert ran == {"train_captioner", "evaluate"}

    diff = json.loads(run(["dvc", "metrics", "diff", "--all", "--json"], root))
    assert "beam_bleu4" in diff["metrics/captioner.json"] and "accuracy" in diff["metrics/classifier.json"]
