"""The clone this package lies in, and the commands that drive DVC in it or in a copy of it."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from gzmorph.data.labels import read_table
from gzmorph.data.packed_splits import SPLIT_NAMES, Split, load_split
from gzmorph.data.sources import source_splits, sources_of
from gzmorph.gz2.tree import present_questions
from gzmorph.params import Params, load_params, set_params
from gzmorph.paths import PARAMS, PROCESSED, real_gz2

REPO = Path(__file__).resolve().parents[3]  # src/gzmorph/devtools/project.py
# What a copy of the pipeline needs; what the data stages read comes from params.yaml's data.raw_dir.
PROJECT = ("dvc.yaml", "params.yaml", ".dvcignore", "stages", "src", ".dvc")
# Never copied: this clone's caches, locks and keys (config.local may hold a remote's secret).
LEFT_OUT = ("__pycache__", "tmp", "cache", "config.local", "*.egg-info")
GIT = ["git", "-c", "user.name=gzmorph", "-c", "user.email=gzmorph@localhost"]
TAIL = 3000  # characters of each output a failure shows


def real_data_parser(doc: str) -> argparse.ArgumentParser:
    """A maintainer's script's parser, described by the first line of ``doc``, with the real GZ2 data it reads:
    --data, the Kaggle subset, and --other, another image release (hart16), both under $GZMORPH_REAL_DATA."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, default=real_gz2("kaggle"))
    parser.add_argument("--other", type=Path, default=real_gz2("hart16"))
    return parser


class CommandError(Exception):
    """A command whose outcome is not the one asked for: it failed where it had to succeed, or the reverse."""

    def __init__(self, args: list, cwd: Path, done: subprocess.CompletedProcess, ok: bool):
        outcome = f"failed (exit code {done.returncode})" if ok else "succeeded where it had to fail"
        command = " ".join(map(str, args))
        super().__init__(f"{command} {outcome} in {cwd}:\n{done.stdout[-TAIL:]}\n{done.stderr[-TAIL:]}")


def environment(**variables: str) -> dict[str, str]:
    """os.environ with the running interpreter's bin folder first on PATH: the stages' ``python`` and ``dvc``
    itself are this environment's, whatever PATH it was started with; ``variables`` set over it."""
    path = os.pathsep.join(filter(None, (str(Path(sys.executable).parent), os.environ.get("PATH"))))
    return {**os.environ, "PATH": path, **variables}


def run(args: list, cwd: Path, env: dict[str, str] | None = None,
        ok: bool | None = True) -> subprocess.CompletedProcess:
    """Runs ``args`` in ``cwd`` with ``environment()`` and ``env`` over it, output captured as text. ``ok``: it
    must succeed (True), must fail (False) or either (None); any other outcome raises CommandError."""
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=environment(**(env or {})),
                          capture_output=True, text=True)
    if ok is not None and (done.returncode == 0) != ok:
        raise CommandError(args, cwd, done, ok)
    return done


def exit_on_failure(main: Callable[[], None]) -> None:
    """Runs a script's ``main``: a command that fails ends it with the command's message, not a traceback."""
    try:
        main()
    except CommandError as error:
        sys.exit(f"error: {error}")


def copy_project(root: Path, changes: dict | None = None, names: Iterable[str] = PROJECT, source: Path = REPO,
                 message: str = "a copy of the project") -> Path:
    """``names`` of ``source`` copied into ``root`` (made if need be; what it holds already stays), without
    LEFT_OUT; the dotted params ``changes`` set as ``dvc exp run -S`` sets them; then a new git repository
    with all of it committed, since DVCLive reads HEAD."""
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, root / name, ignore=shutil.ignore_patterns(*LEFT_OUT),
                            dirs_exist_ok=True)
        else:
            shutil.copy(source / name, root / name)
    if changes:
        set_params(root / "params.yaml", changes)
    run(["git", "init", "-q"], root)
    commit(root, message)
    return root


def commit(root: Path, message: str) -> None:
    """Everything in ``root``'s workspace, committed."""
    run([*GIT, "add", "-A"], root)
    run([*GIT, "commit", "-qm", message], root)


def stages() -> tuple[str, ...]:
    """The pipeline's stages, in dvc.yaml's order (read when asked: an installed copy has no dvc.yaml)."""
    return tuple(yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"])


def timed_stages(root: Path, names: Iterable[str] | None = None) -> dict[str, float]:
    """Each stage (default: all) reproduced alone, in order: its wall seconds."""
    seconds = {}
    for stage in names or stages():
        start = time.perf_counter()
        run(["dvc", "repro", "--single-item", stage], root)
        seconds[stage] = time.perf_counter() - start
    return seconds


def packed_splits(data: Path, root: Path, beside: Path | None = None) -> dict[str, Split]:
    """clean_labels and split on the folder ``data`` (Kaggle's layout) with the committed params, by DVC in a
    copy of the project made at ``root`` (which must not exist): the train, val and test splits the pipeline
    makes of those galaxies, packed. Benchmarks that train or score on another catalogue share it.

    ``beside``: ``data`` split as another source beside that main one, as the release splits hart16 beside
    Kaggle (a galaxy whose GalaxyID the main source has is left out, which moves others between splits)."""
    root.mkdir(parents=True)
    changes = {"data.raw_dir": str(data.resolve())}
    if beside is not None:
        more = [{"raw_dir": str(data.resolve()), "questions": lacking_questions(beside, data)}]
        changes = {"data.raw_dir": str(beside.resolve()), "data.more_sources": json.dumps(more)}
    copy_project(root, changes, message="the benchmark's copy")
    timed_stages(root, ("clean_labels", "split"))
    params = load_params(root / PARAMS)
    return {name: source_splits(load_split(root / PROCESSED, name), sources_of(params.data))[data.name]
            for name in SPLIT_NAMES}


def lacking_questions(data: Path, other: Path) -> list[int]:
    """The questions ``other``'s table has and ``data``'s lacks: what ``other`` teaches beside ``data``."""
    solutions = Params().data.solutions
    have = {q.number for q in present_questions(read_table(data / solutions).columns)}
    return [q.number for q in present_questions(read_table(other / solutions).columns) if q.number not in have]
