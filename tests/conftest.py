"""Shared by the tests that drive DVC: a tiny copy of the project, one reproduced tiny pipeline for the
whole session (training it is the slow part), and the local S3 server of scripts/s3_server.py."""
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
# length_penalty 1: a one-epoch decoder's beam otherwise ends every caption at once, and tests comparing
# captions would compare empty strings.
TINY = {"train_classifier": {"epochs": 1, "width": 8}, "train_captioner": {"epochs": 1, "units": 32},
        "split": {"workers": 1}, "evaluate": {"examples_per_class": 1, "length_penalty": 1.0}}
STAGES = ("clean_labels", "split", "build_captions", "train_classifier", "train_captioner", "evaluate")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
UP_TO_DATE = "Data and pipelines are up to date."


def dvc_env() -> dict:
    # The stages' `python` and `dvc` itself must be the venv's, whatever PATH pytest was started with.
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def run(args, cwd, ok: bool = True) -> str:
    """stdout + stderr of a command; ``ok`` says whether it must succeed or must fail."""
    done = subprocess.run(args, cwd=cwd, env=dvc_env(), capture_output=True, text=True)
    assert (done.returncode == 0) == ok, (f"{' '.join(args)} exited {done.returncode}:\n"
                                          f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def stages_run(log: str) -> set[str]:
    """Stages a `dvc repro`/`dvc exp run` log shows running or restoring from the run cache."""
    return {s for s in STAGES if f"Running stage '{s}'" in log or f"Stage '{s}' is cached" in log}


def tiny_project(root: Path, n_galaxies: int = 160) -> Path:
    """A git + DVC repository holding the pipeline and the first galaxies of the sample, tiny params."""
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    for name in ("stages", "src", ".dvc"):
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "tmp", "cache", "config.local"))
    table = pd.read_csv(SAMPLE / "training_solutions_rev1.csv", dtype=str).head(n_galaxies)
    images = root / "data" / "sample" / "images_training_rev1"
    images.mkdir(parents=True)
    table.to_csv(root / "data" / "sample" / "training_solutions_rev1.csv", index=False)
    for galaxy in table["GalaxyID"]:
        shutil.copy(SAMPLE / "images_training_rev1" / f"{galaxy}.jpg", images)
    set_params(root / "params.yaml", by_key(TINY))
    run(["git", "init", "-q"], root)
    commit(root, "tiny")
    return root


def set_params(file: Path, changes: dict, source: Path | None = None) -> None:
    """Write ``file``: the params of ``source`` (``file`` itself by default) with each dotted key set."""
    params = yaml.safe_load((source or file).read_text())
    for key, value in changes.items():
        *sections, last = key.split(".")
        target = params
        for section in sections:
            target = target[section]
        target[last] = value
    file.write_text(yaml.safe_dump(params, sort_keys=False))


def by_key(sections: dict[str, dict]) -> dict:
    """{section: {name: value}} as {"section.name": value}."""
    return {f"{section}.{name}": value for section, values in sections.items() for name, value in values.items()}


def commit(root: Path, message: str) -> None:
    run([*GIT, "add", "-A"], root)
    run([*GIT, "commit", "-qm", message], root)


@pytest.fixture(scope="session")
def reproduced_tiny(tmp_path_factory) -> Path:
    """The session's one training run: the tiny project after `dvc repro`. Never handed to a test, only
    copied, so that no test sees what another one changed."""
    root = tiny_project(tmp_path_factory.mktemp("reproduced_tiny"))
    run(["dvc", "repro"], root)
    return root


def copy_project(source: Path, root: Path) -> Path:
    """Workspace, git history and DVC cache; .dvc/tmp holds locks and queue state of the source only."""
    shutil.copytree(source, root, symlinks=True, dirs_exist_ok=True,
                    ignore=lambda folder, names: ["tmp"] if Path(folder).name == ".dvc" else [])
    return root


@pytest.fixture(scope="session")
def tiny_pipeline(reproduced_tiny, tmp_path_factory) -> Path:
    """The tiny pipeline reproduced but not committed; tests may change it."""
    return copy_project(reproduced_tiny, tmp_path_factory.mktemp("tiny_pipeline"))


@pytest.fixture(scope="session")
def tiny_baseline(reproduced_tiny, tmp_path_factory) -> Path:
    """The tiny pipeline with its outputs committed as the baseline of experiments. A test that changes
    its workspace restores it (``pristine``); experiments live in refs and leave the workspace alone."""
    root = copy_project(reproduced_tiny, tmp_path_factory.mktemp("tiny_baseline"))
    commit(root, "baseline")
    return root


@pytest.fixture
def pristine(tiny_baseline) -> Path:
    """The shared baseline, put back to its commit afterwards, outputs included."""
    try:
        yield tiny_baseline
    finally:
        # A fresh index, every file rewritten: autostage has staged the changed dvc.lock, and a params.yaml
        # edited within a second of the last reset can pass for unchanged.
        (tiny_baseline / ".git" / "index").unlink()
        run(["git", "reset", "-q", "--hard"], tiny_baseline)
        run(["dvc", "checkout", "--force"], tiny_baseline)
    assert run(["dvc", "status"], tiny_baseline).strip().endswith(UP_TO_DATE)


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> dict:
    """SeaweedFS serving one bucket on 127.0.0.1, with throwaway keys; stopped by its PID at the end of
    the session, whatever the tests did."""
    s3 = load_script("s3_server")
    folder = tmp_path_factory.mktemp("seaweedfs")
    server = {"port": s3.free_port(), "bucket": "gzmorph", "key": secrets.token_hex(8),
              "secret": secrets.token_hex(16)}
    process = s3.start(folder / "data", server["port"], server["bucket"], server["key"], server["secret"],
                       folder / "weed.log")
    try:
        yield {**server, "endpoint": f"http://127.0.0.1:{server['port']}"}
    finally:
        s3.stop(process)
