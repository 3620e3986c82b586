"""Model files: a Keras file and its typed record, and what happens to a record an older version wrote."""
import json

import keras
import pytest

from gzmorph.errors import GzmorphError
from gzmorph.models.classifier import ClassDecision
from gzmorph.models.files import META, ClassifierRecord, load_model, save_model

RECORD = ClassifierRecord(ClassDecision("softmax", [1.0] * 5, ["Class1.1"]), {"softmax": 1.5},
                          [0.4] + [None] * 36, pixels=8, crop=207,
                          trained_on="data/sample", synthetic=True)


def tiny_model() -> keras.Model:
    images = keras.Input((8, 8, 3))
    return keras.Model(images, keras.layers.Dense(2)(images))


def test_a_record_comes_back_as_it_was_saved(tmp_path):
    save_model(tmp_path, tiny_model(), RECORD)
    assert load_model(tmp_path, ClassifierRecord).record == RECORD


def test_a_record_written_by_the_previous_version_names_the_stage_to_rerun(tmp_path):
    save_model(tmp_path, tiny_model(), RECORD)
    old = {"class_from": "softmax", "class_scale": [1.0] * 5, "vote_columns": ["Class1.1"], "class_choice": "softmax",
           "val_score_softmax": 1.5, "train_vote_means": [0.4], "image_size": 8, "crop": 207}
    (tmp_path / META).write_text(json.dumps(old))
    with pytest.raises(GzmorphError, match=r"meta.json is not what this version of gzmorph writes; "
                                           r"rerun `dvc repro train_classifier`"):
        load_model(tmp_path, ClassifierRecord)


def test_a_missing_model_names_the_commands_that_make_or_fetch_it(tmp_path):
    with pytest.raises(GzmorphError, match="dvc repro train_classifier` or `dvc pull train_classifier"):
        load_model(tmp_path, ClassifierRecord)
