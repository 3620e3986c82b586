from pathlib import Path

import pytest
import yaml

from gzmorph.errors import GzmorphError
from gzmorph.params import Params, load_params

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path, data) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def committed() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_committed_params_load_and_name_every_knob():
    params = load_params(REPO / "params.yaml")
    # Every knob the schema knows is spelled out in params.yaml, so `dvc params diff` shows it.
    assert committed() == Params().model_dump(mode="json") | {"data": committed()["data"]}
    assert params.image.pixels == 64


@pytest.mark.parametrize("edit, key", [
    (lambda p: p["train_classifier"].update(epohcs=3), "train_classifier.epohcs"),
    (lambda p: p.update(sed=1), "sed"),
    (lambda p: p["clean_labels"]["rule"].update(merger=0.3), "clean_labels.rule.merger"),
])
def test_unknown_key_is_named(tmp_path, edit, key):
    data = committed()
    edit(data)
    with pytest.raises(GzmorphError, match=f"unknown param '{key}'"):
        load_params(write(tmp_path, data))


@pytest.mark.parametrize("section, key, value", [
    ("train_classifier", "epochs", -1),
    ("train_classifier", "epochs", "ten"),
    ("train_classifier", "learning_rate", 0),
    ("image", "pixels", 0),
    ("evaluate", "beam_width", 0),
    ("split", "val_fraction", 1.5),
])
def test_wrong_type_or_range_names_the_key(tmp_path, section, key, value):
    data = committed()
    data[section][key] = value
    with pytest.raises(GzmorphError, match=f"{section}.{key}"):
        load_params(write(tmp_path, data))


def test_split_fractions_must_leave_a_training_set(tmp_path):
    data = committed()
    data["split"].update(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(GzmorphError, match="split.val_fraction"):
        load_params(write(tmp_path, data))


def test_missing_or_broken_file_is_one_clear_error(tmp_path):
    with pytest.raises(GzmorphError, match="missing"):
        load_params(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(GzmorphError, match="not valid YAML"):
        load_params(tmp_path / "bad.yaml")


def test_set_params_sets_dotted_keys_as_dvc_exp_run_does(tmp_path):
    from gzmorph.params import set_params

    source, file = tmp_path / "source.yaml", tmp_path / "params.yaml"
    source.write_text("seed: 0\ninference:\n  tta: true\n  beam_width: 5\n")
    set_params(file, {"inference.tta": "false", "inference.beam_width": 3, "data.raw_dir": "/data/gz2"}, source=source)
    assert yaml.safe_load(file.read_text()) == {"seed": 0, "inference": {"tta": False, "beam_width": 3},
                                                "data": {"raw_dir": "/data/gz2"}}
