import shutil

import numpy as np
import pandas as pd
import pytest

from gzmorph.data.splitting import assign_splits
from gzmorph.devtools.project import packed_splits
from gzmorph.errors import GzmorphError
from gzmorph.params import load_params
from gzmorph.paths import LABELS
from helpers import REPO, SAMPLE


def labels(counts: dict[str, int], seed=0) -> pd.DataFrame:
    classes = [c for c, n in counts.items() for _ in range(n)]
    ids = np.random.default_rng(seed).permutation(100000 + np.arange(len(classes)))
    return pd.DataFrame({"GalaxyID": ids, "class": classes})


def test_every_class_keeps_its_share_in_every_split():
    table = assign_splits(labels({"spiral": 400, "elliptical": 300, "merger": 40}), 0.15, 0.15, seed=3)
    shares = pd.crosstab(table["class"], table["split"], normalize="index")
    assert np.allclose(shares["test"], 0.15, atol=0.01)
    assert np.allclose(shares["val"], 0.15, atol=0.01)
    assert len(table) == 740 and table["GalaxyID"].is_unique


def test_same_seed_same_split_whatever_the_row_order():
    data = labels({"spiral": 50, "merger": 9})
    first = assign_splits(data, 0.2, 0.2, seed=1)
    second = assign_splits(data.sample(frac=1, random_state=5), 0.2, 0.2, seed=1)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(assign_splits(data, 0.2, 0.2, seed=2))


def test_small_class_is_spread_over_the_splits():
    table = assign_splits(labels({"spiral": 60, "merger": 7}), 0.15, 0.15, seed=0)
    assert set(table.loc[table["class"] == "merger", "split"]) == {"train", "val", "test"}


def test_too_few_galaxies_is_a_clear_error():
    with pytest.raises(GzmorphError, match="too few galaxies"):
        assign_splits(labels({"spiral": 3}), 0.1, 0.1, seed=0)


@pytest.mark.slow
def test_packed_splits_are_the_pipelines_splits_of_that_folder_alone(tmp_path):
    """What the benchmarks on another catalogue train and score on: the split stage's rule, by DVC."""
    data = tmp_path / "data"
    (data / "images_training_rev1").mkdir(parents=True)
    table = pd.read_csv(SAMPLE / "training_solutions_rev1.csv", dtype=str).head(60)
    table.to_csv(data / "training_solutions_rev1.csv", index=False)
    for galaxy in table["GalaxyID"]:
        shutil.copy(SAMPLE / "images_training_rev1" / f"{galaxy}.jpg", data / "images_training_rev1")
    splits = packed_splits(data, tmp_path / "project")
    rule = load_params(REPO / "params.yaml").split
    expected = assign_splits(pd.read_csv(tmp_path / "project" / LABELS), rule.val_fraction, rule.test_fraction,
                             rule.seed)
    for name, split in splits.items():
        assert sorted(split.ids) == sorted(expected.loc[expected["split"] == name, "GalaxyID"])
        assert len(split.images) == len(split.table)
