"""The unfamiliar-image flag: the statistics training stores, the score they give, the columns and the one
warning of a run whose images are mostly unlike the training galaxies."""
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import gzmorph
from gzmorph.inference.table import unfamiliar_count, unfamiliar_warning
from gzmorph.models.familiarity import (
    fit_familiarity,
    load_familiarity,
    picture_statistics,
    save_familiarity,
    single_band,
)
from gzmorph.models.folder import ModelsFolder
from helpers import SAMPLE

FILES = sorted((SAMPLE / "images_training_rev1").iterdir())


def galaxies(n: int, seed: int, spread: float = 1.0) -> np.ndarray:
    """Reddish blobs on a dark sky, of varied size and brightness: stand-ins for a training split."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[:32, :32] - 15.5
    radius = np.hypot(rows, columns)
    scale = rng.uniform(2, 5, n)[:, None, None] * spread
    light = rng.uniform(80, 200, n)[:, None, None] * np.exp(-radius / scale)
    colour = np.array([1.0, 0.8, 0.6])
    sky = rng.normal(10, 3, (n, 32, 32, 3))
    return np.clip(light[..., None] * colour + sky, 0, 255).astype(np.uint8)


def features(images: np.ndarray) -> np.ndarray:
    """Any numbers that follow the images will do for the encoder's features: here, what the pictures are made of."""
    return np.concatenate(picture_statistics(images), axis=1)


def fitted(train_images: np.ndarray, val_images: np.ndarray):
    return fit_familiarity(train_images, features(train_images), val_images, features(val_images))


def test_held_out_images_like_the_training_ones_are_familiar_and_others_are_not():
    familiarity = fitted(galaxies(400, 0), galaxies(200, 1))
    alike = familiarity.scores(galaxies(300, 2), features(galaxies(300, 2)))
    assert np.mean(alike <= 1) > 0.95
    for other in (galaxies(50, 3, spread=0.3),  # framed wider: the light within a smaller radius
                  galaxies(50, 3)[..., ::-1],  # red and blue swapped
                  np.repeat(galaxies(50, 3)[..., 1:2], 3, axis=3),  # one band, grey
                  255 - galaxies(50, 3)):  # a negative
        other = np.ascontiguousarray(other)
        assert np.mean(familiarity.scores(other, features(other)) > 1) > 0.9


def test_picture_statistics_stay_finite_on_black_white_and_grey_images():
    images = np.stack([np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 255, np.uint8),
                       np.full((16, 16, 3), 7, np.uint8)])
    statistics = features(images)
    assert len(statistics) == 3 and np.isfinite(statistics).all()


def test_single_band_means_three_equal_channels():
    colour = galaxies(2, 0)
    grey = np.repeat(colour[..., :1], 3, axis=3)
    assert single_band(np.concatenate([colour, grey])).tolist() == [False, False, True, True]


def test_the_statistics_file_round_trips_and_is_the_same_bytes_each_time(tmp_path):
    familiarity = fitted(galaxies(100, 0), galaxies(50, 1))
    first, second = ModelsFolder(tmp_path / "a").familiarity, ModelsFolder(tmp_path / "b").familiarity
    first.parent.mkdir(parents=True), second.parent.mkdir(parents=True)
    save_familiarity(first, familiarity)
    save_familiarity(second, familiarity)
    assert first.read_bytes() == second.read_bytes()
    loaded = load_familiarity(first)
    images = galaxies(20, 5)
    np.testing.assert_array_equal(loaded.scores(images, features(images)),
                                  familiarity.scores(images, features(images)))
    damaged = ModelsFolder(tmp_path).familiarity
    assert load_familiarity(damaged) is None  # a folder saved without them
    damaged.parent.mkdir()
    damaged.write_bytes(b"not an npz")
    with pytest.raises(gzmorph.GzmorphError, match="familiarity.npz is not what this version of gzmorph writes"):
        load_familiarity(damaged)


def test_the_warning_names_the_share_only_when_most_images_are_unfamiliar():
    assert unfamiliar_warning(unfamiliar_count(pd.DataFrame({"familiar": [True, True, False]})), 3) is None
    assert unfamiliar_count(pd.DataFrame({"class": ["spiral"]})) == 0  # models without the statistics
    assert unfamiliar_warning(0, 0) is None
    line = unfamiliar_warning(unfamiliar_count(pd.DataFrame({"familiar": [False, False, True]})), 3)
    assert line.startswith("2 of 3 images look unlike") and "\n" not in line


@pytest.fixture(scope="module")
def released():
    return gzmorph.load(captions=False)


def negatives(files) -> np.ndarray:
    return np.stack([255 - np.asarray(Image.open(f).convert("RGB")) for f in files])


def test_the_released_model_flags_negatives_and_grey_pictures_and_warns_once(released):
    with pytest.warns(UserWarning, match="8 of 8 images look unlike") as caught:
        rows = released.predict(negatives(FILES[:8]))
    assert len(caught) == 1 and not rows["familiar"].any() and (rows["familiarity"] > 1).all()
    grey = np.stack([np.asarray(Image.open(f).convert("L")) for f in FILES[:2]])
    with warnings.catch_warnings():  # the sample's synthetic galaxies are unfamiliar to the released model too
        warnings.simplefilter("ignore")
        assert released.predict(grey)["single_band"].all()
        assert not released.predict(FILES[:2])["single_band"].any()


def test_the_command_line_warns_in_one_line_and_writes_the_columns(tmp_path, capsys):
    from gzmorph.cli import main

    for i, image in enumerate(negatives(FILES[:3])):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    main(["predict", str(tmp_path), "--no-captions", "-o", str(tmp_path / "out.csv")])
    warned = [line for line in capsys.readouterr().err.splitlines() if "look unlike" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: 3 of 3 images look unlike the galaxies")
    columns = pd.read_csv(tmp_path / "out.csv").columns
    assert columns[-4:].tolist() == ["single_band", "familiarity", "familiar", "models"]
