"""The whole pipeline through DVC, on a tiny subset of the embedded sample (conftest's one tiny run)."""
import json

import pytest

from helpers import UP_TO_DATE, logged, run, stages_run


@pytest.mark.slow
def test_dvc_repro_writes_every_metric_and_plot(tiny_pipeline):
    root = tiny_pipeline
    classifier = json.loads((root / "metrics/classifier.json").read_text())
    captioner = json.loads((root / "metrics/captioner.json").read_text())
    report = json.loads((root / "metrics/data_report.json").read_text())
    # The headline figures at the top (`dvc exp show`'s first columns), the details nested.
    assert [k for k, v in classifier.items() if not isinstance(v, dict)] == [
        "accuracy", "f1_weighted", "f1_macro", "vote_rmse", "vote_rmse_constant"]
    assert set(classifier["classes"]["merger"]) == {"precision", "recall", "f1", "support"}
    assert [k for k, v in captioner.items() if not isinstance(v, dict)] == [
        "bleu1", "bleu2", "bleu3", "bleu4", "class_agreement", "implies_row_class", "top3_share"]
    for metrics in (classifier, captioner):  # each headline figure inside its 95 % interval
        headline = {k: v for k, v in metrics.items()
                    if not isinstance(v, dict) and k not in ("vote_rmse_constant", "top3_share")}
        assert metrics["ci95"].keys() == headline.keys()
        outside = {k: (v, metrics["ci95"][k]) for k, v in headline.items()
                   if not metrics["ci95"][k]["low"] <= v <= metrics["ci95"][k]["high"]}
        assert outside == {}
    assert {f"bleu{n}" for n in range(1, 5)} <= captioner["greedy"].keys() and "bar" in captioner["beam"]["features"]
    assert {"top3_share", "distinct"} <= captioner["references"].keys()
    assert {"most_frequent", "templates"} == captioner["baselines"].keys()
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"] == 160
    for plot in ("confusion.csv", "confusion.png", "gallery.png", "gradcam.png", "examples.csv"):
        assert (root / "plots" / plot).stat().st_size > 0
    for training, metric in (("train_classifier", "votes_loss"), ("train_captioner", "token_accuracy")):
        assert len(logged(root / "dvclive" / training, "eval", metric)) >= 1
    assert run(["dvc", "status"], root).strip().endswith(UP_TO_DATE)


@pytest.mark.slow
def test_a_captioner_param_reruns_only_the_captioner_and_evaluate(pristine):
    log = run(["dvc", "exp", "run", "-S", "train_captioner.epochs=2"], pristine)
    assert stages_run(log) == {"train_captioner", "evaluate"}
    diff = json.loads(run(["dvc", "metrics", "diff", "--all", "--json"], pristine))
    assert "bleu4" in diff["metrics/captioner.json"] and "accuracy" in diff["metrics/classifier.json"]
