"""Searching a predictions table: the vector index (a near-duplicate found first, a stale index refused), the
contact sheet, few-shot finding and oddity ranking on tables made here whose right answer is known, and the
command line and the API giving the same neighbours."""
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import gzmorph
from gzmorph.cli import main
from gzmorph.errors import EXIT_USER_ERROR, GzmorphError
from gzmorph.search import index as vector_index
from gzmorph.search.fewshot import find_like
from gzmorph.search.ranking import ODD_COLUMN
from gzmorph.search.sheet import COLUMNS, TILE, contact_sheet
from gzmorph.search.similar import similar_to
from helpers import SAMPLE

ROWS, DIMENSIONS, DUPLICATE_OF, DUPLICATE_AT = 120, 16, 7, 93
pytestmark = pytest.mark.filterwarnings("ignore:.*images look unlike the galaxies")


def catalogue(folder, vectors: np.ndarray, **columns) -> pd.DataFrame:
    """A predictions table of ``vectors``, each row's image a small PNG in ``folder``."""
    images = folder / "images"
    images.mkdir(exist_ok=True)
    files = []
    for i in range(len(vectors)):
        files.append(str(images / f"g{i}.png"))
        Image.new("RGB", (32, 32), (i % 256, 80, 160)).save(files[-1])
    table = pd.DataFrame({"file": files, "class": "spiral", "caption": "a galaxy of spiral type", **columns})
    embeddings = pd.DataFrame(vectors, columns=[f"embedding_{i}" for i in range(vectors.shape[1])])
    return pd.concat([table, embeddings], axis=1).assign(models="tests")


@pytest.fixture
def with_duplicate(tmp_path):
    """Random embeddings, row DUPLICATE_AT a near-duplicate of row DUPLICATE_OF, written as CSV."""
    vectors = np.random.default_rng(0).normal(size=(ROWS, DIMENSIONS)).astype(np.float32)
    vectors[DUPLICATE_AT] = vectors[DUPLICATE_OF] + 0.01
    path = tmp_path / "predictions.csv"
    catalogue(tmp_path, vectors).to_csv(path, index=False)
    return path


def test_a_near_duplicate_is_the_first_neighbour_by_name_or_in_a_dataframe(with_duplicate):
    for query, source in (("g7", with_duplicate), ("g7.png", with_duplicate), ("g7", pd.read_csv(with_duplicate))):
        found = similar_to(query, source, k=3)
        assert list(found["rank"]) == [0, 1, 2, 3]  # the query itself first
        assert found["file"][1].endswith(f"g{DUPLICATE_AT}.png")
        assert found["similarity"][1] > 0.99 > found["similarity"][2]
    assert vector_index.index_path(with_duplicate).is_file()


def test_a_vector_query_finds_its_row_then_the_near_duplicate(with_duplicate):
    vector = pd.read_csv(with_duplicate).filter(like="embedding_").to_numpy(np.float32)[DUPLICATE_OF]
    found = similar_to(vector[None], with_duplicate, k=2)
    assert [f.split("/")[-1] for f in found["file"][1:]] == [f"g{DUPLICATE_OF}.png", f"g{DUPLICATE_AT}.png"]


def test_a_query_is_not_its_own_neighbour(with_duplicate):
    found = similar_to(f"g{DUPLICATE_AT}", with_duplicate, k=ROWS)
    assert found["file"][1].endswith(f"g{DUPLICATE_OF}.png")
    assert len(found) == ROWS and not found["file"][1:].str.endswith(f"g{DUPLICATE_AT}.png").any()


def test_an_index_of_another_version_of_the_table_is_refused_until_rebuilt(with_duplicate):
    similar_to("g7", with_duplicate, k=3)
    table = pd.read_csv(with_duplicate)
    columns = table.filter(like="embedding_").columns
    table.loc[DUPLICATE_AT, columns] = -table.loc[DUPLICATE_OF, columns]  # no longer alike
    table.to_csv(with_duplicate, index=False)
    with pytest.raises(GzmorphError, match="built from another version .* --rebuild"):
        similar_to("g7", with_duplicate, k=3)
    assert not similar_to("g7", with_duplicate, k=3, rebuild=True)["file"][1].endswith(f"g{DUPLICATE_AT}.png")


def test_beyond_the_exact_size_the_index_is_approximate_and_still_finds_the_duplicate(with_duplicate, monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_UP_TO", 10)
    found = similar_to("g7", with_duplicate, k=3)
    assert vector_index.VectorIndex.load(vector_index.index_path(with_duplicate)).index.nlist > 1
    assert found["file"][1].endswith(f"g{DUPLICATE_AT}.png")


def test_the_contact_sheet_draws_each_query_on_its_own_lines(with_duplicate, tmp_path):
    found = similar_to(["g7", "g8"], with_duplicate, k=COLUMNS + 1)  # each query: 1 + k rows = two lines
    sheet = Image.open(contact_sheet(found, tmp_path / "sheet.png"))
    lines = 4
    assert sheet.width > COLUMNS * TILE and lines * TILE < sheet.height < lines * 2 * TILE
    with pytest.raises(GzmorphError, match=r"\.png"):
        contact_sheet(found, tmp_path / "sheet.jpg")


def test_the_command_and_the_api_give_the_same_neighbours(with_duplicate, tmp_path):
    output = tmp_path / "similar.csv"
    main(["similar", "g7", "g19", "--in", str(with_duplicate), "-k", "5", "--output", str(output),
          "--sheet", str(tmp_path / "sheet.png")])
    api = gzmorph.similar(["g7", "g19"], with_duplicate, k=5)
    command = pd.read_csv(output)
    assert list(command["file"]) == list(api["file"])
    np.testing.assert_allclose(command["similarity"], api["similarity"])
    assert (tmp_path / "sheet.png").is_file()


@pytest.mark.parametrize("change, args, message", [
    (None, ["similar", "g1", "--in", "{folder}/missing.csv"], "no such predictions table"),
    ("no embeddings", ["similar", "g1", "--in", "{table}"], "predict it again with --embeddings"),
    (None, ["similar", "nowhere.jpg", "--in", "{table}"], "neither a row"),
    ("stale", ["similar", "g1", "--in", "{table}"], "--rebuild"),
    (None, ["unusual", "--in", "{table}", "--sort", "p_nothing"], "no numeric column 'p_nothing'"),
    (None, ["unusual", "--in", "{table}"], f"no {ODD_COLUMN} column"),
    (None, ["find", "--like", "g1", "--in", "{table}", "--output", "{folder}/out.txt"], ".csv or .parquet"),
])
def test_mistakes_end_in_one_line(with_duplicate, capsys, change, args, message):
    if change == "no embeddings":
        table = pd.read_csv(with_duplicate)
        table.drop(columns=table.filter(like="embedding_").columns).to_csv(with_duplicate, index=False)
    if change == "stale":
        similar_to("g1", with_duplicate)
        with_duplicate.write_text(with_duplicate.read_text().replace(",0.", ",1.", 1))
    with pytest.raises(SystemExit) as exit_:
        main([a.format(table=with_duplicate, folder=with_duplicate.parent) for a in args])
    assert exit_.value.code == EXIT_USER_ERROR
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and "Traceback" not in error


def test_few_shot_finds_the_examples_kind_and_counter_examples_push_the_other_away(tmp_path):
    """Three kinds of galaxy, each along its own direction; five examples of kind 0 find kind 0 first."""
    rng = np.random.default_rng(1)
    kinds = np.repeat([0, 1, 2], 40)
    directions = rng.normal(size=(3, DIMENSIONS))
    vectors = directions[kinds] + rng.normal(scale=0.8, size=(len(kinds), DIMENSIONS))
    path = tmp_path / "predictions.parquet"
    catalogue(tmp_path, vectors.astype(np.float32), kind=kinds).to_parquet(path)
    examples = [f"g{i}" for i in range(5)]
    found = find_like(examples, path, top=30)
    assert list(found["rank"][:5]) == [0] * 5 and list(found["file"][:5].str.split("/").str[-1]) == \
        [f"{e}.png" for e in examples]
    ranked = found[found["rank"] > 0]
    assert (ranked["kind"] == 0).mean() > 0.9 and not ranked["file"].isin(found["file"][:5]).any()
    assert ranked["resemblance"].is_monotonic_decreasing


def test_unusual_ranks_by_the_predicted_odd_fraction_and_sort_by_any_column(tmp_path):
    rng = np.random.default_rng(2)
    odd, merger = rng.random(30), rng.random(30)
    path = tmp_path / "predictions.csv"
    catalogue(tmp_path, rng.normal(size=(30, 4)).astype(np.float32), **{ODD_COLUMN: odd, "p_merger": merger}
              ).drop(columns=[f"embedding_{i}" for i in range(4)]).to_csv(path, index=False)
    top = gzmorph.unusual(path, top=5)
    np.testing.assert_allclose(top[ODD_COLUMN], np.sort(odd)[::-1][:5])
    assert list(top.columns[:2]) == ["rank", ODD_COLUMN]
    np.testing.assert_allclose(gzmorph.unusual(path, top=3, sort="p_merger")["p_merger"], np.sort(merger)[::-1][:3])


def test_an_image_query_is_embedded_by_the_models_that_wrote_the_table(tmp_path):
    """The released model's table of a few sample galaxies; the query, a copy of one of them under another
    name, finds it first; a table written by other models is refused."""
    files = sorted((SAMPLE / "images_training_rev1").iterdir())[:8]
    galaxies = gzmorph.load(captions=False)
    path = tmp_path / "predictions.csv"
    galaxies.predict([str(f) for f in files], embeddings=True).to_csv(path, index=False)
    query = shutil.copy(files[3], tmp_path / "query.jpg")
    found = galaxies.similar(str(query), path, k=2)
    assert found["file"][1] == str(files[3]) and found["similarity"][1] > 0.999
    table = pd.read_csv(path).assign(models="models")
    table.to_csv(path, index=False)
    with pytest.raises(GzmorphError, match="give the catalogue's models"):
        galaxies.similar(str(query), path, k=2, rebuild=True)
