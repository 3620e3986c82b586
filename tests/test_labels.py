"""clean_labels: reading solutions tables however they were saved, dropping bad rows by reason, the rule."""
from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gzmorph.data.labels import DROP_REASONS, clean_labels, read_table, summary_lines
from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES, Rule
from gzmorph.gz2.tree import ID_COLUMN, QUESTION_BY_NUMBER, VOTE_COLUMNS
from helpers import (
    KAGGLE_SUBSET,
    ROWS_BY_CLASS,
    TINY_JPEG,
    TOLERANCE,
    assert_accounting,
    table_frame,
    touch_images,
    tree_row,
    write_csv,
)


def clean(path: Path, image_dir: Path, tolerance=TOLERANCE, rule=Rule()):  # noqa: B008 (frozen)
    result = clean_labels(read_table(path), image_dir, rule, tolerance)
    assert_accounting(result.report)
    return result


@pytest.fixture
def five(tmp_path) -> tuple[pd.DataFrame, Path]:
    """One row per class and an image for each."""
    frame = table_frame(list(ROWS_BY_CLASS.values()))
    return frame, touch_images(tmp_path / "images", frame[ID_COLUMN])


# ------------------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("latin-1", b""),
])
def test_reads_each_encoding(tmp_path, five, encoding, bom):
    frame, images = five
    frame = frame.assign(observer=["Åsa", "Jérôme", "Zoë", "Núñez", "Øyvind"])
    path = write_csv(tmp_path / "solutions.csv", frame, encoding=encoding, bom=bom)
    result = clean(path, images)
    assert list(result.labels[ID_COLUMN]) == list(frame[ID_COLUMN])
    assert read_table(path)["observer"].tolist() == frame["observer"].tolist()
    assert any("observer" in warning for warning in result.warnings)
    np.testing.assert_allclose(result.labels[VOTE_COLUMNS].to_numpy(), frame[VOTE_COLUMNS].to_numpy())


def test_reads_utf16_without_bom(tmp_path, five):
    frame, images = five
    path = write_csv(tmp_path / "solutions.csv", frame, encoding="utf-16-le")
    assert clean(path, images).report["rows_kept"] == 5


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_sniffs_each_delimiter(tmp_path, five, sep):
    frame, images = five
    path = write_csv(tmp_path / "solutions.csv", frame, sep=sep)
    table = read_table(path)
    assert table.attrs["delimiter"] == sep
    assert clean(path, images).report["rows_kept"] == 5


def test_quoted_numbers(tmp_path, five):
    frame, images = five
    path = write_csv(tmp_path / "solutions.csv", frame, quoting=csv.QUOTE_ALL)
    assert '"0.8"' in path.read_text()
    labels = clean(path, images).labels
    assert labels["Class1.1"].dtype == np.float64
    assert labels.loc[labels["class"] == "elliptical", "Class1.1"].item() == pytest.approx(0.8)


@pytest.mark.parametrize("sep, quoting", [(";", csv.QUOTE_MINIMAL), (",", csv.QUOTE_NONNUMERIC)])
def test_decimal_commas(tmp_path, five, sep, quoting):
    frame, images = five
    path = write_csv(tmp_path / "solutions.csv", frame, sep=sep, decimal=",", quoting=quoting)
    assert "0,8" in path.read_text()
    result = clean(path, images)
    np.testing.assert_allclose(result.labels[VOTE_COLUMNS].to_numpy(), frame[VOTE_COLUMNS].to_numpy())


def test_excel_sep_line_and_messy_header(tmp_path, five):
    frame, images = five
    frame = frame.rename(columns={ID_COLUMN: " galaxyid ", "Class1.1": "CLASS1.1"})
    text = "sep=;\n" + frame.to_csv(index=False, sep=";")
    path = tmp_path / "solutions.csv"
    path.write_text(text)
    assert clean(path, images).report["rows_kept"] == 5


def test_extra_columns_are_ignored_with_a_warning(tmp_path, five):
    frame, images = five
    frame = frame.assign(notes="x", RA=1.5)
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    assert "notes" not in result.labels and "RA" not in result.labels
    assert any("notes" in w and "RA" in w for w in result.warnings)


def test_excel_float_ids_are_whole_numbers(tmp_path, five):
    frame, images = five
    frame[ID_COLUMN] = frame[ID_COLUMN].astype(float)
    labels = clean(write_csv(tmp_path / "solutions.csv", frame), images).labels
    assert labels[ID_COLUMN].dtype == np.int64


# ------------------------------------------------------------------------------------- read errors


def test_missing_file(tmp_path):
    with pytest.raises(GzmorphError, match="nope.csv.*not found"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize("content", [b"", b"  \n\n", "GalaxyID,Class1.1\n".encode(),
                                     codecs.BOM_UTF16_LE + "GalaxyID\n".encode("utf-16-le")])
def test_empty_table(tmp_path, content):
    path = tmp_path / "solutions.csv"
    path.write_bytes(content)
    with pytest.raises(GzmorphError, match="solutions.csv.*(empty|no rows)"):
        read_table(path)


def test_no_galaxy_id_column(tmp_path):
    path = tmp_path / "solutions.csv"
    path.write_text("id,Class1.1\n1,0.5\n")
    with pytest.raises(GzmorphError, match="solutions.csv: no GalaxyID column"):
        read_table(path)


def test_ragged_line_is_unparseable(tmp_path):
    path = tmp_path / "solutions.csv"
    path.write_text("GalaxyID,Class1.1\n1,0.5\n2,0.5,0.3,9\n")
    with pytest.raises(GzmorphError, match="solutions.csv: cannot be read.*line 3"):
        read_table(path)


def test_repeated_column(tmp_path):
    path = tmp_path / "solutions.csv"
    path.write_text("GalaxyID,Class1.1,Class1.1\n1,0.5,0.5\n")
    with pytest.raises(GzmorphError, match="Class1.1 appears more than once"):
        read_table(path)


# ---------------------------------------------------------------------------------- column coverage


def test_missing_whole_question_warns_and_says_what_the_rule_skips(tmp_path, five):
    frame, images = five
    frame = frame[[ID_COLUMN, *KAGGLE_SUBSET]]
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    warning, = result.warnings
    assert "Q4 (spiral arms)" in warning and "Q11 (arm count)" in warning and "spiral arms test" in warning
    assert result.report["questions_present"] == 5
    assert list(result.labels.columns) == [ID_COLUMN, *KAGGLE_SUBSET, "class", "confidence", "image"]
    # Without Q4 the spiral is decided on face-on votes, and its confidence is Class2.2.
    spiral = result.labels[result.labels["class"] == "spiral"]
    assert spiral["confidence"].item() == pytest.approx(spiral["Class2.2"].item())


def test_missing_merger_questions_warns_merger_skipped(tmp_path, five):
    frame, images = five
    frame = frame.drop(columns=QUESTION_BY_NUMBER[8].columns)
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    assert any("merger" in w and "Q8" in w for w in result.warnings)
    assert result.report["class_merger_count"] == 0


def test_missing_required_question_is_an_error_naming_it(tmp_path, five):
    frame, images = five
    frame = frame.drop(columns=QUESTION_BY_NUMBER[2].columns)
    with pytest.raises(GzmorphError, match="solutions.csv.*Class2.1, Class2.2"):
        clean(write_csv(tmp_path / "solutions.csv", frame), images)


def test_partial_question_is_an_error_naming_the_missing_columns(tmp_path, five):
    frame, images = five
    frame = frame.drop(columns=["Class1.2", "Class8.3"])
    with pytest.raises(GzmorphError, match="Class1.2, Class8.3 missing"):
        clean(write_csv(tmp_path / "solutions.csv", frame), images)


# ------------------------------------------------------------------------------------ dropped rows


def test_duplicates_identical_merged_conflicting_all_dropped(tmp_path, five):
    frame, images = five
    twin = frame.iloc[[0, 0]]
    rival = frame.iloc[[1]].assign(**{"Class6.1": 0.2, "Class6.2": 0.8})
    frame = pd.concat([frame, twin, rival], ignore_index=True)
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    report = result.report
    assert report["rows_read"] == 8
    assert report["dropped_duplicate_merged"] == 2
    assert report["dropped_duplicate_conflict"] == 2
    assert report["rows_kept"] == 4
    assert result.labels[ID_COLUMN].is_unique


def test_identical_duplicates_compare_parsed_values(tmp_path, five):
    frame, images = five
    path = tmp_path / "solutions.csv"
    text = frame.to_csv(index=False)
    first_row = text.splitlines()[1]
    path.write_text(text + first_row.replace("0.8,", "0.80,", 1) + "\n")
    assert clean(path, images).report["dropped_duplicate_merged"] == 1


@pytest.mark.parametrize("cell, reason", [
    ("", "missing_value"), ("NA", "missing_value"), ("  ", "missing_value"), ("n/a", "missing_value"),
    ("abc", "non_numeric_value"), ("0.5.1", "non_numeric_value"),
    ("-0.1", "out_of_range_value"), ("1.2", "out_of_range_value"), ("inf", "out_of_range_value"),
])
def test_bad_values_drop_their_row(tmp_path, five, cell, reason):
    frame, images = five
    frame = frame.astype(object)
    frame.loc[2, "Class9.2"] = cell
    report = clean(write_csv(tmp_path / "solutions.csv", frame), images).report
    assert report[f"dropped_{reason}"] == 1
    assert report["rows_kept"] == 4


@pytest.mark.parametrize("cell", ["", "abc", "-5", "1.5", "12e3x"])
def test_bad_ids_drop_their_row(tmp_path, five, cell):
    frame, images = five
    frame = frame.astype(object)
    frame.loc[0, ID_COLUMN] = cell
    report = clean(write_csv(tmp_path / "solutions.csv", frame), images).report
    assert report["dropped_invalid_id"] == 1


def test_short_row_counts_as_missing_values(tmp_path, five):
    frame, images = five
    path = write_csv(tmp_path / "solutions.csv", frame)
    path.write_text(path.read_text() + "100001,0.5\n")
    report = clean(path, images).report
    assert report["dropped_duplicate_conflict"] == 2


@pytest.mark.parametrize("tolerance, dropped", [(0.01, 1), (0.03, 0)])
def test_tree_sums_off_beyond_tolerance(tmp_path, five, tolerance, dropped):
    frame, images = five
    frame.loc[3, "Class7.1"] += 0.02   # question 7 no longer sums to Class1.1
    report = clean(write_csv(tmp_path / "solutions.csv", frame), images, tolerance=tolerance).report
    assert report["dropped_tree_sum_off"] == dropped


def test_missing_and_empty_images_and_strays(tmp_path, five):
    frame, images = five
    (images / "100001.jpg").unlink()
    (images / "100002.jpg").write_bytes(b"")           # zero bytes: as good as missing
    (images / "100003.jpg").rename(images / "100003.png")
    touch_images(images, [999, 1000])                   # images nobody lists
    (images / "notes.txt").write_text("x")
    (images / "sub").mkdir()
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    report = result.report
    assert report["dropped_missing_image"] == 2
    assert report["empty_image_files"] == 1
    assert report["images_without_row"] == 2
    assert report["non_image_files"] == 1
    assert result.labels.set_index(ID_COLUMN)["image"].to_dict() == {
        100003: "100003.png", 100004: "100004.jpg", 100005: "100005.jpg"}


@pytest.mark.parametrize("content", [TINY_JPEG[:len(TINY_JPEG) // 2], b"\xff\xd8fake", b"GalaxyID\n1\n"])
def test_unreadable_images_are_dropped_counted_and_named(tmp_path, five, content):
    frame, images = five
    (images / "100002.jpg").write_bytes(content)
    (images / "100004.png").write_bytes(content)
    (images / "100004.jpg").unlink()
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    assert result.report["dropped_unreadable_image"] == 2
    assert result.report["rows_kept"] == 3
    assert 100002 not in set(result.labels[ID_COLUMN]) and 100004 not in set(result.labels[ID_COLUMN])
    first, second = result.unreadable_images
    assert str(images / "100002.jpg") in first and str(images / "100004.png") in second
    assert "unreadable image" in summary_lines(result.report)[1]


def test_images_of_rows_dropped_for_another_reason_are_not_opened(tmp_path, five, monkeypatch):
    frame, images = five
    frame = frame.astype(object)
    frame.loc[0, "Class1.1"] = "x"
    opened = []
    monkeypatch.setattr("gzmorph.data.labels.unreadable_reason", lambda path: opened.append(path.name))
    clean(write_csv(tmp_path / "solutions.csv", frame), images)
    assert opened == [f"{galaxy}.jpg" for galaxy in frame[ID_COLUMN][1:]]


def test_no_readable_image_says_why(tmp_path, five):
    frame, _ = five
    images = touch_images(tmp_path / "broken", frame[ID_COLUMN], content=b"\xff\xd8fake")
    with pytest.raises(GzmorphError, match=r"no usable row among 5 \(5 unreadable_image\).*intact JPEG"):
        clean(write_csv(tmp_path / "solutions.csv", frame), images)


def test_missing_image_folder(tmp_path, five):
    frame, _ = five
    with pytest.raises(GzmorphError, match="nowhere.*image folder not found"):
        clean(write_csv(tmp_path / "solutions.csv", frame), tmp_path / "nowhere")


def test_no_row_survives_says_why(tmp_path, five):
    frame, _ = five
    images = touch_images(tmp_path / "other", [1])
    with pytest.raises(GzmorphError, match=r"no usable row among 5 \(5 missing_image\).*image"):
        clean(write_csv(tmp_path / "solutions.csv", frame), images)


def test_every_reason_counted_once_and_report_is_flat(tmp_path, five):
    frame, images = five
    frame = frame.astype(object)
    frame.loc[0, "Class1.1"] = "x"
    frame.loc[1, "Class1.1"] = ""
    result = clean(write_csv(tmp_path / "solutions.csv", frame), images)
    report = result.report
    assert set(f"dropped_{r}" for r in DROP_REASONS) <= set(report)
    assert all(isinstance(value, (int, float)) for value in report.values())
    assert report["rows_dropped"] == 2
    lines = summary_lines(report)
    assert lines[0] == "labels: read 5 rows, kept 3, dropped 2"
    assert "1 missing value" in lines[1] and "1 non numeric value" in lines[1]


# ------------------------------------------------------------------------------------------- the rule


def test_rule_on_hand_made_rows(tmp_path, five):
    frame, images = five
    labels = clean(write_csv(tmp_path / "solutions.csv", frame), images).labels
    assert labels["class"].tolist() == list(ROWS_BY_CLASS)
    confidence = dict(zip(labels["class"], labels["confidence"]))
    assert confidence["elliptical"] == pytest.approx(0.8)
    assert confidence["spiral"] == pytest.approx(0.85 * 0.9 * 0.9)      # Class4.1
    assert confidence["edge-on"] == pytest.approx(0.9 * 0.9)            # Class2.1
    assert confidence["merger"] == pytest.approx(0.7 * 0.8)             # Class8.6
    assert confidence["ambiguous"] == pytest.approx(1 - 0.4)            # 1 - best path share (Class1.1)


@pytest.mark.parametrize("row, expected", [
    (tree_row(smooth=0.1, disk=0.1), "ambiguous"),                       # star or artifact
    (tree_row(smooth=0.1, disk=0.85, edge_on=0.1, arms=0.2), "ambiguous"),  # disk without arms
    (tree_row(smooth=0.1, disk=0.85, edge_on=0.5), "ambiguous"),         # undecided edge-on
    (tree_row(smooth=0.7, disk=0.3, odd=0.5, merger=0.6), "merger"),     # merger wins over elliptical
    (tree_row(smooth=0.7, disk=0.3, odd=0.3, merger=0.9), "elliptical"),  # too few saw anything odd
])
def test_rule_edge_cases(tmp_path, row, expected):
    frame = table_frame([row])
    images = touch_images(tmp_path / "images", frame[ID_COLUMN])
    labels = clean(write_csv(tmp_path / "solutions.csv", frame), images).labels
    assert labels["class"].item() == expected
    assert 0 <= labels["confidence"].item() <= 1


def test_labels_sorted_and_typed(tmp_path, five):
    frame, images = five
    frame = frame.iloc[::-1]
    labels = clean(write_csv(tmp_path / "solutions.csv", frame), images).labels
    assert labels[ID_COLUMN].is_monotonic_increasing
    assert labels[ID_COLUMN].dtype == np.int64
    assert (labels[VOTE_COLUMNS].dtypes == np.float64).all()
    assert set(labels["class"]) <= set(CLASSES)


# ------------------------------------------------------------------------------------ property-based

BAD_CELLS = st.one_of(
    st.sampled_from(["", "NA", "nan", "abc", "-0.1", "1.5", "0,5", "\"0.3\"", "1e400", " 0.2 ", "0", "1",
                     "ÿ", "\"", "a\"b", "0.5;0.5"]),
    st.text(max_size=6),
)
IDS = st.sampled_from(["100001", "100002", "100003"] * 3 + ["100001.0", "-4", "x", ""])
HEADERS = st.sampled_from([[ID_COLUMN, *VOTE_COLUMNS], [ID_COLUMN, *KAGGLE_SUBSET], [ID_COLUMN, *KAGGLE_SUBSET[1:]],
                           [*KAGGLE_SUBSET, ID_COLUMN.lower(), "notes"]])


@st.composite
def table_row(draw, header: list[str]) -> list[str]:
    """A row of a real class, perhaps with a few cells spoiled, perhaps cut short or too long."""
    votes = draw(st.sampled_from(list(ROWS_BY_CLASS.values())))
    cells = [draw(IDS) if name.lower() == ID_COLUMN.lower() else f"{votes.get(name, 0.5):.6f}" for name in header]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        cells[draw(st.integers(0, len(cells) - 1))] = draw(BAD_CELLS)
    length = draw(st.sampled_from([len(cells)] * 18 + [len(cells) - 1, len(cells) + 1]))
    return (cells + ["0"])[:length]


@st.composite
def csv_bytes(draw) -> bytes:
    """Tables that are almost right (the likely mistakes), or plain noise."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.binary(max_size=300))
    header = draw(HEADERS)
    rows = draw(st.lists(table_row(header), max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    text = "\n".join(sep.join(cells) for cells in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "latin-1"]))
    return text.encode(encoding, errors="replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=csv_bytes(), image_ids=st.lists(st.sampled_from(["100001", "100002", "100003", "x"]), max_size=4))
def test_any_content_gives_a_report_or_a_user_error(content, image_ids):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "solutions.csv"
        path.write_bytes(content)
        images = touch_images(Path(folder) / "images", image_ids)
        try:
            result = clean_labels(read_table(path), images, Rule(), TOLERANCE)
        except GzmorphError as error:
            assert "\n" not in str(error)
            return
        assert_accounting(result.report)
        assert result.report["rows_kept"] == len(result.labels) > 0
