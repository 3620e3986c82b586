"""The ``gzmorph`` command: predict on image files, evaluate on a labelled folder, one-line user errors."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gzmorph import __version__ as gzmorph_version
from gzmorph.data.files import find_images
from gzmorph.errors import EXIT_USER_ERROR, GzmorphError
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.inference.gradcam import heatmap_paths
from gzmorph.models.files import ClassifierRecord
from gzmorph.models.folder import ModelsFolder
from helpers import REPO, SAMPLE

SAMPLE_IMAGES = SAMPLE / "images_training_rev1"
PROBABILITIES = [f"p_{name}" for name in CLASSES]


def gzmorph(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gzmorph", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def succeeded(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == EXIT_USER_ERROR
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and all(f in last for f in fragments), done.stderr[-2000:]


@pytest.fixture
def mixed_images(tmp_path) -> Path:
    """Two sample JPEGs, a greyscale PNG and a small RGB PNG of odd sizes, a truncated JPEG, a text file."""
    folder = tmp_path / "images"
    folder.mkdir()
    first, second = sorted(SAMPLE_IMAGES.iterdir())[:2]
    shutil.copy(first, folder / first.name)
    shutil.copy(second, folder / second.name)
    with Image.open(first) as image:
        image.convert("L").resize((301, 257)).save(folder / "grey.png")
        image.resize((47, 63)).save(folder / "small.png")
    (folder / "truncated.jpg").write_bytes(first.read_bytes()[:2000])
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.slow
def test_predict_writes_csv_and_reports_unreadable_files_without_stopping(tiny_pipeline, mixed_images, tmp_path):
    output, heatmaps = tmp_path / "out" / "predictions.csv", tmp_path / "gradcam"
    done = succeeded(gzmorph(["predict", mixed_images, mixed_images / "notes.txt", "--output", output,
                              "--gradcam", heatmaps, "--batch-size", "2", "--models", "models"], tiny_pipeline))

    assert "truncated.jpg" in done.stderr and "notes.txt" in done.stderr
    assert_warns_of_the_sample(done.stderr)
    rows = pd.read_csv(output, keep_default_na=False)
    assert sorted(Path(f).name for f in rows["file"]) == sorted(
        ["grey.png", "small.png"] + [p.name for p in mixed_images.glob("*.jpg") if p.name != "truncated.jpg"])
    assert set(rows["class"]) <= set(CLASSES)
    np.testing.assert_allclose(rows[PROBABILITIES].sum(axis=1), 1.0, atol=1e-4)
    meta = json.loads((tiny_pipeline / "models/classifier/meta.json").read_text())
    vote_columns = meta["decision"]["vote_columns"]
    assert list(rows.columns) == ["file", "class", *PROBABILITIES, *vote_columns, "caption", "single_band",
                                  "familiarity", "familiar", "gradcam", "models"]
    assert set(rows["models"]) == {"models"}
    assert rows[vote_columns].to_numpy().min() >= 0
    for heatmap in rows["gradcam"]:
        with Image.open(heatmap) as picture:
            assert picture.size == (256, 256) and picture.mode == "RGB"


@pytest.mark.slow
def test_predict_writes_json_for_a_glob_and_can_skip_captions(tiny_pipeline, mixed_images, tmp_path):
    output = tmp_path / "predictions.json"
    succeeded(gzmorph(["predict", str(mixed_images / "*.png"), "-o", output, "--no-captions", "--models", "models"],
                      tiny_pipeline))

    document = json.loads(output.read_text())
    assert document["models"] == "models" and document["trained_on"] == "data/sample"
    assert_warns_of_the_sample("warning: " + document["warning"])
    records = document["predictions"]
    assert [Path(r["file"]).name for r in records] == ["grey.png", "small.png"]
    for record in records:
        assert list(record["probabilities"]) == list(CLASSES) and "caption" not in record
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert record["class"] in CLASSES and "Class1.1" in record["votes"]


@pytest.mark.slow
def test_predict_with_tta_gives_the_evaluate_stages_classes_and_captions(tiny_pipeline, tmp_path):
    examples = pd.read_csv(tiny_pipeline / "plots/examples.csv", dtype={"GalaxyID": str}, keep_default_na=False)
    images = [tiny_pipeline / "data/sample/images_training_rev1" / f"{g}.jpg" for g in examples["GalaxyID"]]
    output = tmp_path / "predictions.csv"
    succeeded(gzmorph(["predict", *images, "--tta", "--float32", "-o", output, "--models", "models"], tiny_pipeline))

    rows = pd.read_csv(output, keep_default_na=False).assign(GalaxyID=lambda t: [Path(f).stem for f in t["file"]])
    merged = examples.merge(rows, on="GalaxyID", validate="one_to_one")
    assert len(merged) == len(examples) and (merged["caption"] != "").all()
    assert merged["class"].tolist() == merged["predicted_class"].tolist()
    assert merged["caption"].tolist() == merged["beam"].tolist()


@pytest.mark.slow
def test_evaluate_on_the_pipelines_own_test_split_reproduces_its_metrics(tiny_pipeline, tmp_path):
    folder = kaggle_folder_of_test_split(tiny_pipeline, tmp_path / "test_split")
    output = tmp_path / "metrics.json"
    done = succeeded(gzmorph(["evaluate", "--data", folder, "--output", output, "--models", "models"], tiny_pipeline))

    printed, written = json.loads(done.stdout), json.loads(output.read_text())
    assert printed == written and written["models"] == "models"
    assert_warns_of_the_sample(done.stderr)
    assert_warns_of_the_sample("warning: " + written["warning"])
    assert written["classifier"] == json.loads((tiny_pipeline / "metrics/classifier.json").read_text())
    assert written["captioner"] == json.loads((tiny_pipeline / "metrics/captioner.json").read_text())


def assert_warns_of_the_sample(stderr: str) -> None:
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "synthetic sample" in warnings[0] and "the released model" in warnings[0]


def test_predict_uses_the_released_model_by_default_and_says_so(mixed_images, tmp_path):
    output = tmp_path / "predictions.json"
    done = succeeded(gzmorph(["predict", mixed_images, "-o", output], REPO))

    document = json.loads(output.read_text())
    assert document["models"] == f"released (gzmorph {gzmorph_version})" and document["warning"] is None
    assert "synthetic" not in done.stderr and f"models: {document['models']} (trained on " in done.stderr
    assert len(document["predictions"]) == 4 and all(r["caption"] for r in document["predictions"])
    assert list(document["predictions"][0]["votes"]) == VOTE_COLUMNS  # all 37: Kaggle's questions and hart16's


def test_the_released_model_answers_byte_for_byte_the_same_whatever_params_yaml_lies_around(mixed_images, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "params.yaml").write_text("clean_labels: {rule: {elliptical_smooth: 0.9, disk_min: 0.3}}\n"
                                           "inference: {tta: false, beam_width: 1, length_penalty: 0.0}\n")
    outputs = [tmp_path / "in_repo.csv", tmp_path / "elsewhere.csv", tmp_path / "overridden.csv"]
    succeeded(gzmorph(["predict", mixed_images, "-o", outputs[0]], REPO))
    succeeded(gzmorph(["predict", mixed_images, "-o", outputs[1]], elsewhere))
    assert outputs[0].read_bytes() == outputs[1].read_bytes()

    done = succeeded(gzmorph(["predict", mixed_images, "-o", outputs[2], "--params", "params.yaml"], elsewhere))
    assert "settings: from --params" in done.stderr


def kaggle_folder_of_test_split(root: Path, folder: Path) -> Path:
    """The test split's galaxies as a Kaggle-layout folder: their images and their raw CSV rows."""
    test_ids = set(pd.read_csv(root / "data/processed/test.csv")["GalaxyID"].astype(str))
    raw = pd.read_csv(root / "data/sample/training_solutions_rev1.csv", dtype=str)
    (folder / "images_training_rev1").mkdir(parents=True)
    raw[raw["GalaxyID"].isin(test_ids)].to_csv(folder / "training_solutions_rev1.csv", index=False)
    for galaxy in test_ids:
        shutil.copy(root / "data/sample/images_training_rev1" / f"{galaxy}.jpg", folder / "images_training_rev1")
    return folder


def test_a_missing_pipeline_model_is_one_line_naming_the_dvc_command(mixed_images, tmp_path):
    (tmp_path / "models").mkdir()
    done = gzmorph(["predict", mixed_images, "-o", tmp_path / "p.csv", "--models", "models"], tmp_path)
    assert_one_line_error(done, "no trained model", "dvc repro train_classifier", "dvc pull train_classifier")


def test_a_folder_without_models_elsewhere_is_one_line_without_dvc_advice(mixed_images, tmp_path):
    done = gzmorph(["predict", mixed_images, "-o", tmp_path / "p.csv", "--models", tmp_path / "nothing"], REPO)
    assert_one_line_error(done, "no trained model", "classifier/ and captioner/")
    assert "dvc" not in done.stderr


def test_an_unknown_output_format_and_a_missing_path_are_one_line_errors(mixed_images, tmp_path):
    assert_one_line_error(gzmorph(["predict", mixed_images, "-o", tmp_path / "p.xlsx"], REPO), ".json or .parquet")
    assert_one_line_error(gzmorph(["predict", tmp_path / "absent", "-o", tmp_path / "p.csv"], REPO), "absent")


# Calls the command line in-process with argv[1:], then says whether TensorFlow was loaded.
REFUSED = """
import sys
from gzmorph.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("tensorflow loaded" if "tensorflow" in sys.modules else "tensorflow not loaded")
"""


def refused(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", REFUSED, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_bad_predict_arguments_are_refused_before_tensorflow_loads(mixed_images, tmp_path):
    (tmp_path / "bad.yaml").write_text("inference: {beam_widht: 3}\n")
    for args, message in ((["-o", tmp_path / "p.xlsx"], ".csv, .json or .parquet"),
                          ([tmp_path / "absent", "-o", tmp_path / "p.csv"], "absent"),
                          (["-o", tmp_path / "p.csv", "--batch-size", "0"], "batch size must be at least 1"),
                          (["-o", tmp_path / "p.csv", "--params", tmp_path / "bad.yaml"], "beam_widht")):
        done = refused(["predict", mixed_images, *args], tmp_path)
        assert done.stdout.strip() == "tensorflow not loaded" and message in done.stderr, args


def test_evaluate_names_the_layout_it_expects_before_tensorflow_loads(tmp_path):
    done = refused(["evaluate", "--data", tmp_path, "--models", tmp_path], tmp_path)
    assert done.stdout.strip() == "tensorflow not loaded"
    assert "images_training_rev1" in done.stderr and "training_solutions_rev1.csv" in done.stderr


def test_find_images_takes_folders_files_and_globs_in_order_each_once(mixed_images):
    found = find_images([str(mixed_images), str(mixed_images / "notes.txt"), str(mixed_images / "*.png")])
    names = [p.name for p in found]
    assert names[-1] == "notes.txt" and len(names) == len(set(names)) == 6
    with pytest.raises(GzmorphError, match="nowhere"):
        find_images([str(mixed_images / "nowhere*.jpg")])


def test_heatmaps_of_inputs_sharing_a_name_do_not_overwrite_each_other(tmp_path):
    paths = [Path("a/galaxy.jpg"), Path("b/galaxy.jpg"), Path("b/galaxy.png")]
    assert [p.name for p in heatmap_paths(paths, tmp_path, set())] == ["galaxy.png", "galaxy-2.png", "galaxy-3.png"]


def test_a_models_folder_with_a_cut_short_keras_file_is_one_line_naming_it(mixed_images, tmp_path):
    released, broken = ModelsFolder.released(), ModelsFolder(tmp_path / "broken")
    shutil.copytree(released.classifier, broken.classifier)
    shutil.copytree(released.captioner, broken.captioner)
    keras_file = broken.keras_file(ClassifierRecord)
    keras_file.write_bytes(keras_file.read_bytes()[:100_000])
    done = gzmorph(["predict", mixed_images, "-o", tmp_path / "p.csv", "--models", broken.root], tmp_path)
    assert_one_line_error(done, str(keras_file), "is cut short")
    assert not (tmp_path / "p.csv").exists()
