"""Model files: a Keras file and its typed record in a models folder, and what a missing model or a record
an older version wrote says, in the pipeline's models/ and in any other folder."""
import json

import keras
import pytest

from gzmorph.errors import GzmorphError
from gzmorph.models.files import ClassifierRecord, Trained
from gzmorph.models.folder import PIPELINE, ModelsFolder
from helpers import classifier_record

RECORD = classifier_record()


def tiny_model() -> keras.Model:
    images = keras.Input((8, 8, 3))
    return keras.Model(images, keras.layers.Dense(2)(images))


def test_a_record_comes_back_as_it_was_saved_with_the_settings_it_answers_with(tmp_path):
    folder = ModelsFolder(tmp_path)
    folder.save(Trained(tiny_model(), RECORD))
    record = folder.load(ClassifierRecord).record
    assert record == RECORD and record.rule == RECORD.rule and record.tta is True


def write_old_record(folder: ModelsFolder) -> None:
    folder.save(Trained(tiny_model(), RECORD))
    old = {"class_from": "softmax", "class_scale": [1.0] * 5, "vote_columns": ["Class1.1"], "class_choice": "softmax",
           "val_score_softmax": 1.5, "train_vote_means": [0.4], "image_size": 8, "crop": 207}
    folder.record_file(ClassifierRecord).write_text(json.dumps(old))


def test_a_record_written_by_an_older_version_names_the_stage_to_rerun_in_the_pipelines_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_old_record(PIPELINE)
    with pytest.raises(GzmorphError, match=r"meta.json is not what this version of gzmorph writes; "
                                           r"rerun `dvc repro train_classifier`"):
        PIPELINE.load(ClassifierRecord)


def test_a_record_written_by_an_older_version_elsewhere_gives_no_dvc_advice(tmp_path):
    folder = ModelsFolder(tmp_path / "theirs")
    write_old_record(folder)
    with pytest.raises(GzmorphError, match="another version of gzmorph saved it") as raised:
        folder.load(ClassifierRecord)
    assert "dvc" not in str(raised.value)


def test_a_missing_model_in_the_pipelines_folder_names_the_commands_that_make_or_fetch_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GzmorphError, match="dvc repro train_classifier` or `dvc pull train_classifier"):
        PIPELINE.load(ClassifierRecord)


def test_a_missing_model_elsewhere_says_what_the_folder_must_hold(tmp_path):
    with pytest.raises(GzmorphError, match="--models takes a folder holding classifier/ and captioner/") as raised:
        ModelsFolder(tmp_path).load(ClassifierRecord)
    assert "dvc" not in str(raised.value)
