"""Reruns the training and evaluate stages in a scratch clone and compares what they write with HEAD.

    python scripts/check_reproducible.py                                  # as this machine runs it
    python scripts/check_reproducible.py --env TF_NUM_INTRAOP_THREADS=1 --busy
    python scripts/check_reproducible.py --env ONEDNN_MAX_CPU_ISA=AVX512_CORE --keep /tmp/isa
    python scripts/check_reproducible.py --set threads=4   # how far another value moves them

The clone is of HEAD (uncommitted changes are not in it) and shares this repository's DVC cache, so the
data stages come back from the cache instead of running again. Prints "identical" when metrics/*.json,
the DVCLive curves, plots/*.csv and dvc.lock match HEAD byte for byte, else each metric that moved and by
how much, and the first epoch at which a training curve parts from HEAD's.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gzmorph.params import set_params
from gzmorph.paths import (
    CAPTIONER_CURVES,
    CAPTIONER_METRICS,
    CLASSIFIER_CURVES,
    CLASSIFIER_METRICS,
    CONFUSION,
    EXAMPLES,
)

REPO = Path(__file__).resolve().parents[1]
RERUN = ("train_classifier", "train_captioner", "evaluate")
METRICS = tuple(map(str, (CLASSIFIER_METRICS, CAPTIONER_METRICS)))
LIVE = tuple(map(str, (CLASSIFIER_CURVES, CAPTIONER_CURVES)))
OTHERS = (str(CONFUSION), str(EXAMPLES), "dvc.lock")


def run(args: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> str:
    venv = Path(sys.executable).parent  # the stages' python and dvc are this interpreter's
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}", **(env or {})})
    if check and done.returncode != 0:
        raise SystemExit(f"error: {' '.join(args)} failed in {cwd}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def clone(repo: Path, into: Path) -> Path:
    run(["git", "clone", "-q", str(repo), str(into)], repo)
    run(["dvc", "cache", "dir", "--local", str(repo / ".dvc" / "cache")], into)
    run(["dvc", "checkout", "--quiet"], into, check=False)  # what the cache lacks, rerun() makes
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
    if missing is not None and not run(["git", "ls-tree", "--name-only", "HEAD", path], root).strip():
        return missing
    return run(["git", "show", f"HEAD:{path}"], root)


def differences(root: Path) -> list[str]:
    """What the workspace of ``root`` holds that HEAD does not, one line a difference."""
    lines = []
    for path in METRICS:
        before, after = flat(json.loads(committed(root, path))), flat(json.loads((root / path).read_text()))
        lines += [f"{path} {key}: {before.get(key)} -> {value} ({moved(before.get(key), value)})"
                  for key, value in after.items() if before.get(key) != value]
    for folder in LIVE:
        names = set(run(["git", "ls-tree", "-r", "--name-only", "HEAD", folder], root).split())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="set for the rerun stages, e.g. TF_NUM_INTRAOP_THREADS=1 or ONEDNN_MAX_CPU_ISA=AVX2")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a param for the rerun, e.g. threads=4")
    parser.add_argument("--stages", nargs="+", default=RERUN, choices=RERUN,
                        help="the stages to rerun (default: all three); the others keep HEAD's outputs")
    parser.add_argument("--busy", action="store_true", help="keep every core busy with other work meanwhile")
    parser.add_argument("--keep", type=Path, help="clone here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    if any("=" not in pair for pair in args.env + args.set):
        raise SystemExit("error: --env and --set take KEY=VALUE")
    env = dict(pair.split("=", 1) for pair in args.env)
    with tempfile.TemporaryDirectory() as scratch:
        root = clone(REPO, args.keep or Path(scratch) / "clone")
        set_params(root / "params.yaml", dict(pair.split("=", 1) for pair in args.set))
        rerun(root, env, args.busy, tuple(args.stages))
        found = differences(root)
    print("\n".join(found) if found else "identical")


if __name__ == "__main__":
    main()
