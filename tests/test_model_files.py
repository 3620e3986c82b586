"""Model files: a Keras file and its typed record in a models folder, and what a missing model, a record an
older version wrote, or a damaged file (cut short, empty, another kind of file, Python code inside) says, in the
pipeline's models/, the released one and any other folder: one line naming the file."""
import json
import shutil
import zipfile

import keras
import pytest

from gzmorph.errors import GzmorphError
from gzmorph.models.classifier import build_classifier
from gzmorph.models.familiarity import load_familiarity
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, Trained
from gzmorph.models.folder import PIPELINE, ModelsFolder
from helpers import classifier_record

RECORD = classifier_record()


def tiny_model() -> keras.Model:
    return build_classifier(RECORD.pixels, "small_cnn", 4, 0.0, "none", "float32")


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


# Folders from elsewhere, each broken one way: every one ends in one line naming the file and what is wrong.
RELEASED = ModelsFolder.released()


def copy_of_released_classifier(tmp_path) -> ModelsFolder:
    folder = ModelsFolder(tmp_path / "theirs")
    shutil.copytree(RELEASED.classifier, folder.classifier)
    return folder


def one_line_error(folder: ModelsFolder, kind=ClassifierRecord) -> str:
    with pytest.raises(GzmorphError) as raised:
        folder.load(kind)
    message = str(raised.value)
    assert "\n" not in message
    return message


def cut_short(data: bytes) -> bytes:
    return data[: len(data) // 2]


def flipped_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


@pytest.mark.parametrize(("damage", "what"), [
    (cut_short, "is cut short"),
    (lambda data: b"", "is empty"),
    (lambda data: b"<html>404 Not Found</html>", "is not a Keras file"),
    (flipped_byte, "is damaged: its entry model.weights.h5 fails its checksum"),
])
def test_a_damaged_keras_file_is_one_line_naming_it_and_what_is_wrong(tmp_path, damage, what):
    folder = copy_of_released_classifier(tmp_path)
    keras_file = folder.keras_file(ClassifierRecord)
    keras_file.write_bytes(damage(keras_file.read_bytes()))
    message = one_line_error(folder)
    assert message.startswith(f"{keras_file} {what}") and "copy the folder again" in message
    assert "File not found" not in message


def test_a_keras_file_keras_cannot_read_is_one_line_with_keras_reason(tmp_path):
    folder = copy_of_released_classifier(tmp_path)
    with zipfile.ZipFile(folder.keras_file(ClassifierRecord), "w") as archive:
        archive.writestr("metadata.json", "{}")  # no config.json, no weights
    message = one_line_error(folder)
    assert message.startswith(f"{folder.keras_file(ClassifierRecord)} is not a model gzmorph can load (")
    assert "config.json" in message


def test_a_keras_file_holding_python_code_is_refused_without_running_it(tmp_path):
    folder = copy_of_released_classifier(tmp_path)
    images = keras.Input((8, 8, 3))
    keras.Model(images, keras.layers.Lambda(lambda x: x)(images)).save(folder.keras_file(ClassifierRecord))
    message = one_line_error(folder)
    assert message.startswith(f"{folder.keras_file(ClassifierRecord)} holds Python code")
    assert "never runs" in message and "safe_mode" not in message


def test_a_record_of_the_other_model_says_the_files_are_mixed_up(tmp_path):
    folder = copy_of_released_classifier(tmp_path)
    shutil.copy(RELEASED.record_file(CaptionerRecord), folder.record_file(ClassifierRecord))
    message = one_line_error(folder)
    assert message.startswith(f"{folder.record_file(ClassifierRecord)} is a captioner's record where a classifier's")


def test_the_other_models_keras_file_is_one_line_naming_it(tmp_path):
    folder = copy_of_released_classifier(tmp_path)
    shutil.copy(RELEASED.keras_file(CaptionerRecord), folder.keras_file(ClassifierRecord))
    keras_file = folder.keras_file(ClassifierRecord)
    assert one_line_error(folder).startswith(f"{keras_file} holds a Keras model, but not gzmorph's classifier")


def test_a_damaged_familiarity_file_is_one_line_naming_it(tmp_path):
    folder = copy_of_released_classifier(tmp_path)
    folder.familiarity.write_bytes(cut_short(folder.familiarity.read_bytes()))
    with pytest.raises(GzmorphError, match=r"familiarity.npz is not what this version of gzmorph writes") as raised:
        load_familiarity(folder.familiarity)
    assert str(folder.familiarity) in str(raised.value) and "\n" not in str(raised.value)


def test_the_released_folder_damaged_says_to_reinstall(monkeypatch, tmp_path):
    folder = copy_of_released_classifier(tmp_path)
    monkeypatch.setattr("gzmorph.models.folder.released_root", lambda: folder.root)
    folder.keras_file(ClassifierRecord).write_bytes(b"")
    assert "reinstall gzmorph" in one_line_error(folder)
