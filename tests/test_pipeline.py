"""The whole pipeline through DVC, on a tiny subset of the embedded sample (conftest's one tiny run)."""
import json

import pytest

from helpers import UP_TO_DATE, run, stages_run


@pytest.mark.slow
def test_dvc_repro_writes_every_metric_and_plot(tiny_pipeline):
    root = tiny_pipeline
    classifier = json.loads((root / "metrics/classifier.json").read_text())
    captioner = json.loads((root / "metrics/captioner.json").read_text())
    report = json.loads((root / "metrics/data_report.json").read_text())
    headline = {"accuracy", "f1_weighted", "f1_macro", "merger_recall", "vote_rmse", "vote_rmse_constant"}
    assert headline <= classifier.keys()
    assert {f"{d}_bleu{n}" for d in ("greedy", "beam") for n in range(1, 5)} <= captioner.keys()
    assert {"beam_top3_share", "references_top3_share", "beam_class_agreement"} <= captioner.keys()
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"] == 160
    for plot in ("confusion.csv", "confusion.png", "gallery.png", "gradcam.png", "train_classifier.csv",
                 "train_captioner.csv", "examples.csv"):
        assert (root / "plots" / plot).stat().st_size > 0
    assert run(["dvc", "status"], root).strip().endswith(UP_TO_DATE)


@pytest.mark.slow
def test_a_captioner_param_reruns_only_the_captioner_and_evaluate(pristine):
    log = run(["dvc", "exp", "run", "-S", "train_captioner.epochs=2"], pristine)
    assert stages_run(log) == {"train_captioner", "evaluate"}
    diff = json.loads(run(["dvc", "metrics", "diff", "--all", "--json"], pristine))
    assert "beam_bleu4" in diff["metrics/captioner.json"] and "accuracy" in diff["metrics/classifier.json"]
