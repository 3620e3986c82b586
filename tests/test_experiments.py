"""Experiments and caching on the tiny pipeline: `dvc exp run -S` for every knob users turn, the queue,
the comparison commands, and which stages a params change reruns."""
import json
import shlex
import time
from pathlib import Path

import pytest
import yaml

from gzmorph.params import Params
from helpers import STAGES, headline_command, run, set_params, stages_run, tiny_project

DATA_STAGES = ("clean_labels", "split")  # seconds each: run them for real


@pytest.fixture(scope="module")
def fresh_project(tmp_path_factory) -> Path:
    """The tiny project, never reproduced: enough for what fails or waits in the queue."""
    root = tiny_project(tmp_path_factory.mktemp("fresh"))
    yield root
    run(["dvc", "queue", "remove", "--all"], root)


@pytest.mark.parametrize("override, message", [
    ("train_classifier.epohcs=3", "Could not override 'train_classifier.epohcs'"),  # DVC itself refuses
    ("+train_classifier.epohcs=3", "unknown param 'train_classifier.epohcs' (a typo?)"),  # forced in: we refuse
    ("train_classifier.epochs=three", "train_classifier.epochs: Input should be a valid integer"),
    ("image.pixels=4", "image.pixels: Input should be greater than or equal to 8"),
])
def test_exp_run_with_a_bad_param_fails_naming_it(fresh_project, override, message):
    try:
        log = run(["dvc", "exp", "run", "-S", override], fresh_project, ok=False)
    finally:
        run(["git", "checkout", "--", "params.yaml"], fresh_project)
    assert message in log
    assert "Traceback" not in log


def test_exp_run_set_gives_every_knob_users_turn_its_type(fresh_project):
    overrides = {"train_classifier.epochs": 3, "train_classifier.learning_rate": 1e-3,
                 "train_captioner.learning_rate": 5e-4, "image.pixels": 224, "train_classifier.backbone": "resnet50",
                 "train_classifier.weights": "imagenet", "inference.beam_width": 3, "inference.tta": False,
                 "clean_labels.rule.merger_odd": 0.35, "clean_labels.rule.elliptical_smooth": 0.7,
                 "split.seed": 7, "data.raw_dir": "/data/galaxy-zoo"}
    written = {"train_classifier.learning_rate": "1e-3", "train_captioner.learning_rate": "0.0005",
               "inference.tta": "false"}  # as a user types them
    sets = [arg for key, value in overrides.items() for arg in ("-S", f"{key}={written.get(key, value)}")]
    run(["dvc", "exp", "run", "--queue", "-n", "knobs", *sets], fresh_project)

    params = queued_params(fresh_project, "knobs")
    validated = Params.model_validate(params)
    for key, value in overrides.items():
        section, *path = key.split(".")
        got = params[section]
        for part in path:
            got = got[part]
        assert got == value and type(got) is type(value), key
    assert validated.train_classifier.learning_rate == 1e-3 and validated.image.pixels == 224


def queued_params(root: Path, name: str) -> dict:
    for baseline in json.loads(run(["dvc", "exp", "show", "--json"], root)):
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                if rev["name"] == name:
                    return rev["data"]["params"]["params.yaml"]["data"]
    raise AssertionError(f"no experiment {name} in `dvc exp show`")


def downstream(stages: set[str], root: Path) -> set[str]:
    """The stages that read, directly or not, an output of ``stages`` (from dvc.yaml's deps and outs)."""
    spec = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]

    def paths(stage, kind):
        return {next(iter(p)) if isinstance(p, dict) else p for p in spec[stage].get(kind, [])}

    found = set(stages)
    while True:
        more = {s for s in STAGES if s not in found
                and any(dep == out or dep.startswith(f"{out}/") for dep in paths(s, "deps")
                        for f in found for out in paths(f, "outs"))}
        if not more:
            return found
        found |= more


def reruns(root: Path, changes: dict) -> set[str]:
    """The stages a params change reruns, without training: the data stages run for real (whether their
    outputs change decides what follows), `dvc status` names the training stages now out of date, and
    whatever reads a retrained model follows them."""
    set_params(root / "params.yaml", changes)
    ran = stages_run(run(["dvc", "repro", *DATA_STAGES], root))
    pending = set(json.loads(run(["dvc", "status", "--json"], root)))
    return ran | downstream(pending, root)


# The README's caching table; the captioner's row is tests/test_pipeline.py's, with a real training run.
@pytest.mark.slow
@pytest.mark.parametrize("changes, expected", [
    # Named pixels, not size: DVC 3.67 leaves keys named "size" out of its run-cache key.
    ({"image.pixels": 32}, {"split", "train_classifier", "build_captions", "train_captioner", "evaluate"}),
    ({"clean_labels.rule.elliptical_smooth": 0.8}, set(STAGES)),
    ({"split.seed": 1}, {"split", "build_captions", "train_classifier", "train_captioner", "evaluate"}),
    ({"split.workers": 2}, {"split"}),  # the same bytes from any number of workers: nothing after it reruns
    ({"build_captions.confident": 0.7}, {"build_captions", "train_captioner", "evaluate"}),
    ({"train_classifier.learning_rate": 0.001}, {"train_classifier", "build_captions", "train_captioner", "evaluate"}),
    ({"seed": 1}, {"train_classifier", "build_captions", "train_captioner", "evaluate"}),
    ({"threads": 1}, {"train_classifier", "build_captions", "train_captioner", "evaluate"}),
    ({"inference.tta": False}, {"train_classifier", "build_captions", "train_captioner", "evaluate"}),
    ({"inference.beam_width": 3}, {"train_captioner", "evaluate"}),
    ({"evaluate.bootstrap": 10}, {"evaluate"}),
], ids=lambda value: next(iter(value)) if isinstance(value, dict) else None)
def test_a_params_change_reruns_exactly_the_stages_that_read_it(pristine, changes, expected):
    assert reruns(pristine, changes) == expected


@pytest.mark.slow
def test_queued_experiments_run_two_at_a_time_and_compare(tiny_baseline):
    root = tiny_baseline
    for width in (1, 3):
        run(["dvc", "exp", "run", "--queue", "-n", f"beam{width}", "-S", f"inference.beam_width={width}"], root)
    try:
        run(["dvc", "queue", "start", "-j", "2"], root)
        status = wait_for_queue(root, timeout=600)
    finally:
        run(["dvc", "queue", "stop", "--kill"], root)
    assert status.count("Success") == 2, status

    table = run(["dvc", "exp", "show", "--md"], root)
    assert "[beam1]" in table and "[beam3]" in table
    # The README's headline table: the experiments' rows, the headline metrics as its only columns.
    header, *rows = run([*shlex.split(headline_command()), "--csv"], root).splitlines()
    assert [c for c in header.split(",") if c not in ("Experiment", "rev", "typ", "Created", "parent")] == [
        "accuracy", "f1_weighted", "f1_macro", "vote_rmse", "vote_rmse_constant",
        "bleu1", "bleu2", "bleu3", "bleu4", "class_agreement", "implies_row_class", "top3_share"]
    assert {"beam1", "beam3"} <= {row.split(",")[0] for row in rows}
    assert "inference.beam_width" in run(["dvc", "params", "diff", "HEAD", "beam1"], root)
    metrics = json.loads(run(["dvc", "metrics", "diff", "HEAD", "beam3", "--all", "--json"], root))
    assert "bleu4" in metrics["metrics/captioner.json"]
    plots = json.loads(run(["dvc", "plots", "diff", "HEAD", "beam1", "--json"], root))["data"]
    assert {"plots/confusion.csv", "classifier_loss", "captioner_token_accuracy"} <= plots.keys()
    # experiments left the workspace alone (dvc plots diff writes dvc_plots/, untracked)
    assert run(["git", "status", "--porcelain", "--untracked-files=no"], root) == ""


def wait_for_queue(root: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = run(["dvc", "queue", "status"], root)
        if not any(state in status for state in ("Queued", "Running")):
            return status
        assert time.monotonic() < deadline, f"the queue is still busy after {timeout:.0f} s:\n{status}"
        time.sleep(3)
