"""The Python API, in process: gzmorph.load / gzmorph.predict on files, folders, arrays and tables, with the
command line's columns and the settings the models folder carries, whatever params.yaml lies around."""
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import gzmorph
from gzmorph.data.decoding import galaxy_from_array, load_galaxy
from gzmorph.gz2.captions import implied_class
from gzmorph.gz2.rule import CLASSES, Rule
from gzmorph.models.encoders import FEATURES
from gzmorph.models.precision import in_precision
from helpers import REPO, SAMPLE

PROBABILITIES = [f"p_{name}" for name in CLASSES]
# The released model learnt from real galaxies; most of the synthetic sample's look unlike them, and it says so.
pytestmark = pytest.mark.filterwarnings("ignore:.*images look unlike the galaxies")
FILES = sorted((SAMPLE / "images_training_rev1").iterdir())[:6]


@pytest.fixture(scope="module")
def released():
    return gzmorph.load()


def test_importing_gzmorph_prints_nothing_and_leaves_tensorflow_unloaded():
    done = subprocess.run([sys.executable, "-c", "import sys, gzmorph; print('tensorflow' in sys.modules)"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout == "False\n" and done.stderr == ""


def test_files_give_the_command_lines_columns(released):
    rows = released.predict([str(f) for f in FILES])
    columns = released.models.vote_columns
    assert list(rows.columns) == ["file", "class", *PROBABILITIES, *columns, "caption", "single_band", "familiarity",
                                  "familiar", "models"]
    assert rows["file"].tolist() == [str(f) for f in FILES] and set(rows["class"]) <= set(CLASSES)
    np.testing.assert_allclose(rows[PROBABILITIES].sum(axis=1), 1.0, atol=1e-4)
    assert (rows["caption"] != "").all()


def test_a_predictor_answers_the_same_each_time_and_as_gzmorph_predict(released):
    once, again = released.predict(FILES[:3]), released.predict(FILES[:3])
    pd.testing.assert_frame_equal(once, again)
    pd.testing.assert_frame_equal(once, gzmorph.predict(FILES[:3]))


def full_arrays(files) -> np.ndarray:
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


def test_an_array_of_full_cutouts_is_framed_as_the_files_are(released):
    arrays = full_arrays(FILES)
    from_files, from_arrays = released.predict(FILES), released.predict(arrays)
    assert "file" not in from_arrays.columns and from_arrays.index.tolist() == list(range(len(FILES)))
    assert from_arrays["class"].tolist() == from_files["class"].tolist()
    # A JPEG file is decoded at reduced scale inside libjpeg (as training's were), an array from full
    # resolution: the pixels differ by a level or two, the probabilities by a few hundredths at most
    np.testing.assert_allclose(from_arrays[PROBABILITIES], from_files[PROBABILITIES], atol=0.05)
    crop, pixels = released.models.crop, released.models.pixels
    difference = np.abs(galaxy_from_array(arrays[0], crop, pixels).astype(int) - load_galaxy(FILES[0], crop, pixels))
    assert difference.mean() < 2


def test_a_grey_array_is_read_as_a_grey_file_is(released, tmp_path):
    grey = full_arrays(FILES[:2]).mean(axis=3).astype(np.uint8)
    for i, image in enumerate(grey):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    from_arrays, from_files = released.predict(grey), released.predict(sorted(tmp_path.glob("*.png")))
    np.testing.assert_array_equal(from_arrays[PROBABILITIES].to_numpy(), from_files[PROBABILITIES].to_numpy())


def test_a_table_keeps_its_ids_and_loses_only_the_rows_that_cannot_be_read(released, tmp_path, capfd):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(FILES[0].read_bytes()[:500])
    table = pd.DataFrame({"GalaxyID": [1, 2, 3], "path": [str(FILES[0]), str(broken), str(FILES[1])],
                          "models": "theirs"}, index=[10, 20, 30])
    rows = released.predict(table, path_column="path", gradcam=tmp_path / "heat")
    assert rows.index.tolist() == [10, 30] and rows["GalaxyID"].tolist() == [1, 3]
    assert list(rows.columns[:3]) == ["GalaxyID", "path", "class"] and list(rows.columns).count("models") == 1
    assert rows["models"].str.startswith("released").all() and len(list((tmp_path / "heat").glob("*.png"))) == 2
    assert "broken.jpg" in capfd.readouterr().err


def test_embeddings_are_the_classifiers_pooled_features(released):
    rows = released.predict(FILES[:4], embeddings=True)
    embedding = rows.filter(like="embedding_").to_numpy()
    model = in_precision(released.models.classifier.model, released.models.precision)  # this CPU's choice
    images = np.stack([load_galaxy(f, released.models.crop, released.models.pixels) for f in FILES[:4]])
    pooled = keras.Model(model.input, model.get_layer("pool").output).predict_on_batch(images)
    assert embedding.shape == (4, model.get_layer(FEATURES).output.shape[-1])
    np.testing.assert_allclose(embedding, pooled, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 50, 50, 3), np.float32), "uint8"),
    (np.zeros((2, 50, 50, 4), np.uint8), "(N, height, width, 3)"),
    (pd.DataFrame({"name": ["a.jpg"]}), "no 'file' column"),
    (pd.DataFrame({"file": ["/nowhere/a.jpg"]}), "no such file"),
    (["/nowhere/at/all"], "no such file"),
])
def test_bad_input_raises_one_error_type_with_a_one_line_message(released, images, message):
    with pytest.raises(gzmorph.GzmorphError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        released.predict(images)
    assert "\n" not in str(raised.value)


def test_heat_maps_are_for_files_not_arrays(released):
    with pytest.raises(gzmorph.GzmorphError, match="heat maps are drawn for image files"):
        released.predict(full_arrays(FILES[:1]), gradcam="heatmaps")


def test_a_batch_size_below_one_is_refused(released):
    with pytest.raises(gzmorph.GzmorphError, match="batch size must be at least 1"):
        released.predict(FILES[:1], batch_size=0)


def test_the_folders_settings_win_over_a_params_yaml_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("clean_labels: {rule: {elliptical_smooth: 0.9}}\n"
                                          "inference: {tta: false, beam_width: 1, length_penalty: 0.0}\n")
    monkeypatch.chdir(tmp_path)
    settings = gzmorph.load().settings
    assert settings.clean_labels.rule == Rule() and settings.inference.beam_width == 5
    assert settings.inference.length_penalty == 0.7 and settings.inference.tta is True


def test_predict_files_names_each_unreadable_file_and_draws_a_heat_map_per_readable_one(released, tmp_path):
    from gzmorph.inference.predict import predict_files

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    rows, problems = predict_files([FILES[0], broken, FILES[1]], released.models, released.settings, batch_size=2,
                                   gradcam_dir=tmp_path / "heat", embeddings=True)
    assert rows["file"].tolist() == [str(FILES[0]), str(FILES[1])]
    assert len(problems) == 1 and "broken.png" in problems[0]
    assert [Path(p).name for p in rows["gradcam"]] == [f"{FILES[0].stem}.png", f"{FILES[1].stem}.png"]
    assert all(Path(p).is_file() for p in rows["gradcam"]) and rows.filter(like="embedding_").shape[1] > 0


def test_predict_files_with_nothing_readable_is_one_error(released, tmp_path):
    from gzmorph.inference.predict import predict_files

    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(gzmorph.GzmorphError, match="none of the 1 file"):
        predict_files([tmp_path / "a.jpg"], released.models, released.settings, batch_size=4)


def test_every_rows_caption_names_the_rows_own_class(released):
    rows = released.predict(sorted((SAMPLE / "images_training_rev1").iterdir())[:40], tta=True)
    assert (rows["caption"].map(implied_class) == rows["class"].map(CLASSES.index)).all()


def test_predicting_shows_a_progress_bar_on_stderr_and_nothing_on_stdout(released, capfd):
    released.predict(FILES[:2])
    released.predict(full_arrays(FILES[:2]))
    out, err = capfd.readouterr()
    assert out == "" and "predicting: 100%" in err and "2/2 [" in err and "1/1 [" in err  # files, then batches


def test_a_params_files_crop_gives_way_to_the_models_and_crop_overrides_it(released):
    from gzmorph.params import Params

    other = Params().model_copy(update={"image": replace(Params().image, crop=100)})
    assert gzmorph.load(params=other).settings.image.crop == released.models.crop
    cropped = gzmorph.load(crop=300, captions=False)
    assert cropped.settings.image.crop == 300
    assert not np.allclose(cropped.predict(FILES[:2])[PROBABILITIES], released.predict(FILES[:2])[PROBABILITIES])
