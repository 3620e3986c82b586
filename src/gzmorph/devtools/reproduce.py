"""Rerunning the training and evaluate stages in a scratch clone and comparing what they write with HEAD:
the parts of scripts/check_reproducible.py that scripts/spread.py and the tests share."""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
from pathlib import Path

from gzmorph.devtools.project import run
from gzmorph.paths import (
    CAPTIONER_CURVES,
    CAPTIONER_METRICS,
    CLASSIFIER_CURVES,
    CLASSIFIER_METRICS,
    CONFUSION,
    EXAMPLES,
)

RERUN = ("train_classifier", "train_captioner", "evaluate")
METRICS = tuple(map(str, (CLASSIFIER_METRICS, CAPTIONER_METRICS)))
LIVE = tuple(map(str, (CLASSIFIER_CURVES, CAPTIONER_CURVES)))
OTHERS = (str(CONFUSION), str(EXAMPLES), "dvc.lock")


def clone(repo: Path, into: Path) -> Path:
    """A git clone of ``repo``'s HEAD sharing its DVC cache, with what the cache holds checked out."""
    run(["git", "clone", "-q", str(repo), str(into)], repo)
    run(["dvc", "cache", "dir", "--local", str(repo / ".dvc" / "cache")], into)
    run(["dvc", "checkout", "--quiet"], into, ok=None)  # what the cache lacks, rerun() makes
    return into


def rerun(root: Path, env: dict[str, str], busy: bool = False, stages: tuple[str, ...] = RERUN) -> None:
    """The data stages if their outputs are not there yet, then ``stages`` (training and evaluate), forced."""
    run(["dvc", "repro", "build_captions"], root)
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(os.cpu_count() if busy else 0)]
    for burner in burners:
        burner.start()
    try:
        run(["dvc", "repro", "--force", "--single-item", *stages], root, env)
    finally:
        for burner in burners:
            burner.terminate()


def burn() -> None:
    while True:
        pass


def committed(root: Path, path: str, missing: str | None = None) -> str:
    """HEAD's copy of ``path``; ``missing`` in place of a file HEAD lacks (None: that is an error)."""
    if missing is not None and not run(["git", "ls-tree", "--name-only", "HEAD", path], root).stdout.strip():
        return missing
    return run(["git", "show", f"HEAD:{path}"], root).stdout


def differences(root: Path) -> list[str]:
    """What the workspace of ``root`` holds that HEAD does not, one line a difference."""
    lines = []
    for path in METRICS:
        before, after = flat(json.loads(committed(root, path))), flat(json.loads((root / path).read_text()))
        lines += [f"{path} {key}: {before.get(key)} -> {value} ({moved(before.get(key), value)})"
                  for key, value in after.items() if before.get(key) != value]
    for folder in LIVE:
        names = set(run(["git", "ls-tree", "-r", "--name-only", "HEAD", folder], root).stdout.split())
        names |= {str(f.relative_to(root)) for f in (root / folder).rglob("*") if f.is_file()}
        for path in sorted(names):
            lines += curve_difference(root, path)
    lines += [f"{path}: differs" for path in OTHERS if committed(root, path) != (root / path).read_text()]
    return lines


def curve_difference(root: Path, path: str) -> list[str]:
    if not (root / path).is_file():
        return [f"{path}: only in HEAD"]
    before, after = committed(root, path, missing=""), (root / path).read_text()
    if before == after:
        return []
    if not path.endswith(".tsv"):
        return [f"{path}: differs"]
    before, after = rows(before), rows(after)
    parted = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    return [f"{path}: differs from epoch {parted} ({len(before)} epochs in HEAD, {len(after)} now)"]


def flat(metrics: dict, prefix: str = "") -> dict:
    """Nested metrics as `dvc metrics show` names them: ``classes.merger.recall``."""
    out = {}
    for key, value in metrics.items():
        out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def moved(before, after) -> str:
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        return f"{after - before:+.4g}"
    return "changed"
