"""The released model (models/released): its card matches its files, they are small enough for git, and
it learnt from real galaxies whose IDs, not images or votes, are in the repository."""
import json

import pandas as pd

from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.paths import RELEASED
from helpers import REPO, load_script

FOLDER = REPO / RELEASED
release = load_script("release_model")


def test_the_card_is_what_the_released_files_make():
    # The card lists every file with its hash and quotes the metrics: any change to them shows here.
    assert (FOLDER / release.CARD).read_text() == release.card(FOLDER)


def test_every_released_file_is_small_enough_for_git():
    files = release.released_files(FOLDER)
    assert {"classifier/model.keras", "captioner/model.keras"} <= {str(f.relative_to(FOLDER)) for f in files}
    assert max(f.stat().st_size for f in files) < release.MAX_BYTES


def test_it_learnt_from_real_galaxies_listed_by_id_alone():
    record = json.loads((FOLDER / "classifier" / "meta.json").read_text())
    assert record["synthetic"] is False and not record["trained_on"].startswith("data/sample")
    ids = pd.read_csv(FOLDER / release.IDS)
    assert list(ids.columns) == ["GalaxyID", "class", "split"] and ids["GalaxyID"].is_unique
    splits = json.loads((FOLDER / "metrics" / "split_report.json").read_text())
    assert ids["split"].value_counts().to_dict() == {s: splits[f"{s}_galaxies"] for s in ("train", "val", "test")}
    shipped = [f for f in FOLDER.rglob("*") if f.is_file()]
    assert not [f for f in shipped if f.suffix.lower() in (".jpg", ".jpeg", ".png", ".npy")]
    assert not any(column in f.read_text() for f in shipped if f.suffix == ".csv" for column in VOTE_COLUMNS)
