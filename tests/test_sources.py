"""Training from more than one labelled folder (gzmorph.data.sources): what each source teaches, how the
sources are split and joined, the loss that keeps another catalogue's scale out of the main one's columns,
and the references completed from the classifier's answers; then a tiny two-source pipeline end to end."""
import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from gzmorph.data.caption_files import COMPLETED
from gzmorph.data.packed_splits import Split
from gzmorph.data.sources import ONE_SOURCE, SOURCE_COLUMN, joined, source_splits, sources_of, taught
from gzmorph.data.splitting import assign_splits
from gzmorph.devtools.project import copy_project
from gzmorph.errors import GzmorphError
from gzmorph.gz2.tree import ID_COLUMN, VOTE_COLUMNS, answers_and_reach, completed
from gzmorph.models.classifier import TreeVotes, masked_mse, taught_votes_loss
from gzmorph.params import Data, MoreSource, Params, load_params
from helpers import KAGGLE_SUBSET, SAMPLE, TINY, by_key, run

BAR = ["Class3.1", "Class3.2"]
HART16_LIKE = [3, 4, 5, 9, 10, 11]


def sample_votes(n: int, start: int = 0) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "training_solutions_rev1.csv").iloc[start:start + n].reset_index(drop=True)


def two_sources() -> list:
    return sources_of(Data(raw_dir="data/kaggle", more_sources=(MoreSource("x/hart16", (3, 4)),)))


def test_more_sources_are_validated_with_one_line_naming_the_key(tmp_path):
    params = tmp_path / "params.yaml"
    for more, expected in (([{"raw_dir": "x/hart16", "questions": [12]}], "data.more_sources.0.questions.0"),
                           ([{"raw_dir": "x/hart16"}], "data.more_sources.0.questions"),
                           ([{"raw_dir": "x/sample", "questions": [3]}], "named 'sample'"),
                           ([{"raw_dir": "x/h", "questions": [3, 3]}], "names a question twice")):
        params.write_text(json.dumps({"data": {"more_sources": more}}))
        with pytest.raises(GzmorphError, match=expected) as error:
            load_params(params)
        assert "\n" not in str(error.value)
    assert Params().data.more_sources == ()


def test_a_later_source_loses_the_galaxies_whose_id_an_earlier_one_has():
    first = pd.DataFrame({ID_COLUMN: [1, 2, 3], "Class1.1": 0.5})
    second = pd.DataFrame({ID_COLUMN: [3, 4], "Class1.1": 0.9})
    table, lost = joined({"kaggle": first, "hart16": second})
    assert table[ID_COLUMN].tolist() == [1, 2, 3, 4] and lost == {"kaggle": 0, "hart16": 1}
    assert table.loc[table[ID_COLUMN] == 3, SOURCE_COLUMN].item() == "kaggle"


def test_a_catalogue_is_split_the_same_alone_and_beside_another():
    rng = np.random.default_rng(0)
    alone = pd.DataFrame({ID_COLUMN: np.arange(200), "class": rng.choice(["spiral", "elliptical"], 200)})
    other = pd.DataFrame({ID_COLUMN: np.arange(1000, 1300), "class": rng.choice(["spiral", "merger"], 300)})
    both = pd.concat([other.assign(source="a"), alone.assign(source="b")])
    split_alone = assign_splits(alone, 0.15, 0.15, seed=4)
    split_both = assign_splits(both, 0.15, 0.15, seed=4)
    mine = split_both[split_both["source"] == "b"].drop(columns="source").reset_index(drop=True)
    pd.testing.assert_frame_equal(split_alone, mine)


def test_the_main_source_teaches_products_and_the_class_another_only_its_questions_shares():
    votes = sample_votes(4)
    votes[SOURCE_COLUMN] = ["kaggle", "kaggle", "hart16", "hart16"]
    array = votes.reindex(columns=VOTE_COLUMNS).to_numpy(np.float32)
    t = taught(votes, array, two_sources())
    assert t.classes.tolist() == [True, True, False, False]
    np.testing.assert_array_equal(t.products[:2], array[:2])
    assert np.isnan(t.products[2:]).all()
    shares, reach = answers_and_reach(array)
    taught_columns = [VOTE_COLUMNS.index(c) for c in [*BAR, "Class4.1", "Class4.2"]]
    np.testing.assert_allclose(t.answers[2:, taught_columns], shares[2:, taught_columns], rtol=1e-6)
    np.testing.assert_allclose(t.reach[2:, taught_columns], reach[2:, taught_columns], rtol=1e-6)
    assert np.isnan(np.delete(t.answers, taught_columns, axis=1)).all() and np.isnan(t.answers[:2]).all()
    one = taught(votes, array, ONE_SOURCE)
    assert one.classes.all() and np.isnan(one.answers).all()


def test_an_answer_share_teaches_its_question_and_never_its_parents():
    logits = keras.Variable(np.random.default_rng(1).normal(size=(3, len(VOTE_COLUMNS))).astype("float32"))
    target = np.full((3, 3 * len(VOTE_COLUMNS)), np.nan, np.float32)
    bar = [VOTE_COLUMNS.index(c) for c in BAR]
    target[:, bar] = np.nan
    target[:, [len(VOTE_COLUMNS) + i for i in bar]] = [[0.9, 0.1]] * 3
    target[:, [2 * len(VOTE_COLUMNS) + i for i in bar]] = 0.5
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = keras.ops.mean(taught_votes_loss(target, TreeVotes()(logits)))
    gradient = tape.gradient(loss, logits).numpy()
    assert float(loss) > 0 and np.abs(gradient[:, bar]).min() > 0
    assert np.abs(np.delete(gradient, bar, axis=1)).max() < 1e-6  # Class1 and Class2 (the parents) untouched
    products = np.random.default_rng(2).uniform(size=(3, len(VOTE_COLUMNS))).astype("float32")
    only_products = np.concatenate([products, np.full((3, 2 * len(VOTE_COLUMNS)), np.nan, np.float32)], axis=1)
    predicted = TreeVotes()(logits)
    np.testing.assert_allclose(taught_votes_loss(only_products, predicted), masked_mse(products, predicted),
                               rtol=1e-6)


def test_completion_fills_only_the_lacking_taught_questions_under_the_galaxys_own_parents():
    votes = sample_votes(3).reindex(columns=VOTE_COLUMNS).to_numpy(float)
    truth = votes.copy()
    lacking = [VOTE_COLUMNS.index(c) for c in VOTE_COLUMNS if c.split(".")[0] in {"Class3", "Class10"}]
    votes[:2, lacking] = np.nan
    predicted = np.random.default_rng(0).uniform(0.1, 1, size=votes.shape)
    predicted[:, [VOTE_COLUMNS.index(c) for c in ("Class10.1", "Class10.2", "Class10.3")]] = np.nan  # not taught
    filled, questions = completed(votes, predicted)
    assert questions == [[3], [3], []]
    shares, _ = answers_and_reach(predicted)
    parent = votes[:2, VOTE_COLUMNS.index("Class2.2")]
    np.testing.assert_allclose(filled[:2, [VOTE_COLUMNS.index(c) for c in BAR]],
                               shares[:2, [VOTE_COLUMNS.index(c) for c in BAR]] * parent[:, None])
    assert np.isnan(filled[:2, [VOTE_COLUMNS.index("Class10.1")]]).all()
    np.testing.assert_array_equal(filled[2], truth[2])


def test_each_source_is_scored_on_its_own_columns():
    table = sample_votes(6)[[ID_COLUMN, *VOTE_COLUMNS]]
    table.loc[:2, [c for c in VOTE_COLUMNS if c not in KAGGLE_SUBSET]] = np.nan
    table[SOURCE_COLUMN] = ["kaggle"] * 3 + ["hart16"] * 3
    parts = source_splits(Split(np.zeros((6, 4, 4, 3), np.uint8), table), two_sources())
    assert list(parts) == ["kaggle", "hart16"]
    assert parts["kaggle"].vote_columns == KAGGLE_SUBSET and len(parts["hart16"].vote_columns) == 37
    assert parts["hart16"].ids.tolist() == table[ID_COLUMN].tolist()[3:]


def write_source(root: Path, name: str, table: pd.DataFrame) -> Path:
    folder = root / name
    (folder / "images_training_rev1").mkdir(parents=True)
    table.to_csv(folder / "training_solutions_rev1.csv", index=False)
    for galaxy in table[ID_COLUMN]:
        shutil.copy(SAMPLE / "images_training_rev1" / f"{galaxy}.jpg", folder / "images_training_rev1")
    return folder


@pytest.mark.slow
def test_a_main_source_of_17_columns_and_another_of_37_train_a_model_of_every_question(tmp_path):
    """The Kaggle subset's case: the main source lacks questions 3, 4, 5, 9, 10 and 11, which another teaches.
    The model answers them, its references say them, and each source is scored on its own test galaxies."""
    kaggle = write_source(tmp_path / "data", "kaggle", sample_votes(120)[[ID_COLUMN, *KAGGLE_SUBSET]])
    hart16 = write_source(tmp_path / "data", "hart16", sample_votes(80, start=120))
    root = tmp_path / "project"
    root.mkdir()
    copy_project(root, {**by_key(TINY), "data.raw_dir": str(kaggle), "data.more_sources": json.dumps(
        [{"raw_dir": str(hart16), "questions": HART16_LIKE}])}, message="two sources")
    run(["dvc", "repro"], root)

    report = json.loads((root / "metrics" / "data_report.json").read_text())
    assert report["rows_kept"] == 120 and report["more_sources"]["hart16"]["rows_kept"] == 80
    metrics = json.loads((root / "metrics" / "classifier.json").read_text())
    assert set(metrics["questions"]) == {"q1_smooth_or_features", "q2_edge_on", "q6_anything_odd", "q7_roundness",
                                         "q8_odd_feature"}
    assert "answers_rmse" in metrics["sources"]["hart16"]["questions"]["q3_bar"] or \
        metrics["sources"]["hart16"]["questions"]["q3_bar"]["reached"] == 0
    assert len(metrics["sources"]["hart16"]["questions"]) == 11
    captions = json.loads((root / "metrics" / "captioner.json").read_text())
    assert "features" in captions["sources"]["hart16"]["beam"]
    completions = json.loads((root / "data" / "captions" / COMPLETED).read_text())
    kaggle_train = pd.read_csv(root / "data" / "interim" / "splits.csv").query("source == 'kaggle' and split != 'test'")
    assert set(completions) == {str(g) for g in kaggle_train[ID_COLUMN]}
    assert {3, 4, 5} <= set(completions[next(iter(completions))]) | {3, 4, 5}
    record = json.loads((root / "models" / "classifier" / "meta.json").read_text())
    assert record["train_vote_means"][VOTE_COLUMNS.index("Class3.1")] is None  # products: the main source's
    assert record["train_answer_means"][VOTE_COLUMNS.index("Class3.1")] is not None  # shares: hart16's
    predicted = tmp_path / "p.csv"
    run(["gzmorph", "predict", str(kaggle / "images_training_rev1"), "--models", "models", "--no-captions",
         "-o", str(predicted)], root)
    columns = pd.read_csv(predicted).columns
    assert all(c in columns for c in VOTE_COLUMNS)
