"""The released model (models/released): its card is what the library makes of its files, they are small
enough for git, it learnt from real galaxies whose IDs, not images or votes, are in the repository, and its
params name the data by what they are, not by where they lay."""
import json

import pandas as pd
import yaml

from gzmorph.devtools.release import MAX_BYTES
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.models.card import model_card
from gzmorph.models.folder import ModelsFolder
from helpers import REPO

RELEASED = ModelsFolder.released()


def test_the_released_model_is_the_repositorys_models_released_folder():
    assert RELEASED.root == REPO / "models" / "released"


def test_the_card_is_what_the_released_files_make():
    # The card lists every file with its hash and quotes the metrics: any change to them shows here.
    assert RELEASED.card.read_text() == model_card(RELEASED)


def test_every_released_file_is_small_enough_for_git():
    files = RELEASED.files()
    assert {"classifier/model.keras", "captioner/model.keras"} <= {str(f.relative_to(RELEASED.root)) for f in files}
    assert max(f.stat().st_size for f in files) < MAX_BYTES


def test_it_learnt_from_real_galaxies_listed_by_id_alone():
    record = json.loads((RELEASED.classifier / "meta.json").read_text())
    assert record["synthetic"] is False and not record["trained_on"].startswith("data/sample")
    ids = pd.read_csv(RELEASED.galaxy_ids)
    assert list(ids.columns) == ["GalaxyID", "class", "source", "split"] and ids["GalaxyID"].is_unique
    assert set(ids["source"]) == {"kaggle", "hart16"}  # the Kaggle subset, and hart16 for the questions it lacks
    splits = json.loads((RELEASED.root / "metrics" / "split_report.json").read_text())
    assert ids["split"].value_counts().to_dict() == {s: splits[f"{s}_galaxies"] for s in ("train", "val", "test")}
    shipped = RELEASED.files()
    assert not [f for f in shipped if f.suffix.lower() in (".jpg", ".jpeg", ".png", ".npy")]
    assert not any(column in f.read_text() for f in shipped if f.suffix == ".csv" for column in VOTE_COLUMNS)


def test_no_released_file_names_a_folder_of_the_machine_that_trained_it():
    params = yaml.safe_load((RELEASED.root / "params.yaml").read_text())
    assert params["data"]["raw_dir"] == "kaggle" and params["data"]["more_sources"][0]["raw_dir"] == "hart16"
    assert not [f for f in RELEASED.files() if f.suffix in (".json", ".yaml", ".md") and "/work/" in f.read_text()]


def test_it_answers_every_question_and_keeps_a_hart16_test_split_out():
    record = json.loads((RELEASED.classifier / "meta.json").read_text())
    assert record["answered_columns"] == VOTE_COLUMNS
    ids = pd.read_csv(RELEASED.galaxy_ids)
    assert ((ids["source"] == "hart16") & (ids["split"] == "test")).sum() == 100
    scored = json.loads((RELEASED.metrics / "classifier.json").read_text())["sources"]["hart16"]
    assert sum(c["support"] for c in scored["classes"].values()) == 100 and "q3_bar" in scored["questions"]
