"""A survey's run: rows reach the output as batches finish, a stopped run continues where it was, catalogues in,
shards for a cluster, and the outputs' own rules (torn lines, run records, Parquet parts)."""
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import gzmorph
from gzmorph.data.inputs import Inputs, catalogue_inputs, file_inputs, parse_shard
from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES
from gzmorph.inference.output import PARTS_SUFFIX, RUN_KEY, CsvOutput, open_output
from helpers import SAMPLE

# The released model learnt from real galaxies; most of the synthetic sample's look unlike them, and it says so.
pytestmark = pytest.mark.filterwarnings("ignore:.*images look unlike the galaxies")
IMAGES = sorted((SAMPLE / "images_training_rev1").iterdir())
PROBABILITIES = [f"p_{name}" for name in CLASSES]
RUN = {"models": "m", "trained_on": "t", "precision": "float32", "warning": None, "vote_columns": ["Class1.1"],
       "answers": {"tta": False}}


def command(args, cwd: Path) -> subprocess.Popen:
    """The command on the released model, in float32: the same answers on any CPU."""
    return subprocess.Popen([sys.executable, "-m", "gzmorph", "predict", *map(str, args), "--float32"], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def finished(process: subprocess.Popen, code: int = 0) -> str:
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == code, stderr[-3000:]
    return stderr


def read(output: Path) -> pd.DataFrame:
    if output.suffix == ".parquet":
        return pd.read_parquet(output)
    if output.suffix == ".json":
        return pd.json_normalize(json.loads(output.read_text())["predictions"])
    return pd.read_csv(output, keep_default_na=False)


def assert_same_rows(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same rows in the same order: the same classes and captions, the probabilities within 1e-5 (a row's batch
    differs between a continued run and one that never stopped)."""
    assert table["file"].tolist() == expected["file"].tolist()
    assert table["class"].tolist() == expected["class"].tolist()
    assert table["caption"].tolist() == expected["caption"].tolist()
    np.testing.assert_allclose(table.filter(like="p_").to_numpy(), expected.filter(like="p_").to_numpy(), atol=1e-5)


def rows_in(output: Path) -> int:
    """Rows that reached the disk so far, read as a user would while the run goes on."""
    parts = output.with_name(output.name + PARTS_SUFFIX)
    if output.suffix == ".parquet":
        return len(pd.read_parquet(parts)) if parts.is_dir() and any(parts.glob("*.parquet")) else 0
    return max(0, len(output.read_text().splitlines()) - 1) if output.is_file() else 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])  # JSON's cut and close: the tests of the outputs below
def test_a_run_stopped_by_sigterm_keeps_its_rows_and_the_same_command_finishes_it(tmp_path, suffix):
    images = tmp_path / "images"
    images.mkdir()
    for image in IMAGES[:96]:
        (images / image.name).symlink_to(image.resolve())
    whole, output = tmp_path / f"whole{suffix}", tmp_path / f"stopped{suffix}"
    args = [images, "--batch-size", "8", "-o", output]
    finished(command([images, "--batch-size", "8", "-o", whole], tmp_path))

    running = command(args, tmp_path)
    while rows_in(output) < 16:
        assert running.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.05)
    running.send_signal(signal.SIGTERM)
    stderr = finished(running, 128 + signal.SIGTERM)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("stopped by SIGTERM: ") and "Traceback" not in stderr
    safe = int(last.split(": ")[1].split()[0])
    assert 16 <= safe < 96 and f"continue with: cd {tmp_path} && gzmorph predict " in last
    if suffix == ".parquet":
        partial = pd.read_parquet(output.with_name(output.name + PARTS_SUFFIX))
    else:
        partial = read(output)
    assert len(partial) == safe
    assert_same_rows(partial, read(whole).iloc[:safe])

    stderr = finished(command(args, tmp_path))
    assert f"{safe} were there from an earlier run" in stderr
    assert_same_rows(read(output), read(whole))
    if suffix == ".parquet":
        metadata = json.loads(pq.read_schema(output).metadata[RUN_KEY.encode()])
        assert metadata["precision"] == "float32" and metadata["models"].startswith("released")
        assert pq.ParquetFile(output).num_row_groups == 1  # the batches' parts joined
        assert not output.with_name(output.name + PARTS_SUFFIX).exists()


def test_an_output_of_other_settings_is_refused_and_a_finished_one_is_left_as_it_is(tmp_path):
    output, inputs = tmp_path / "p.csv", file_inputs(IMAGES[:3])
    classifier_only = gzmorph.load(captions=False, precision="float32")
    classifier_only.predict_into(output, inputs)
    before = output.read_bytes()
    with pytest.raises(GzmorphError, match=f"{output} holds predictions made with other models or settings "
                                           r"\(answers.captions: False there, True now\)"):
        gzmorph.load(precision="float32").predict_into(output, inputs)
    again = classifier_only.predict_into(output, inputs)
    assert (again.rows, again.earlier) == (3, 3) and output.read_bytes() == before


def test_three_shards_side_by_side_hold_one_runs_rows_with_the_catalogues_columns(tmp_path):
    images = tmp_path / "cutouts"
    images.mkdir()
    for image in IMAGES[:20]:
        (images / image.name).symlink_to(image.resolve())
    catalogue = pd.DataFrame({"objid": np.arange(20, dtype=np.int64) + 10**17, "ra": np.linspace(150, 151, 20),
                              "path": [f"cutouts/{image.name}" for image in IMAGES[:20]]})
    catalogue.loc[[4, 11], "path"] = ["cutouts/missing.jpg", "cutouts/also_missing.png"]
    catalogue.to_parquet(tmp_path / "survey.parquet")
    shards = [command(["--catalogue", "survey.parquet", "--path-column", "path", "--shard", f"{k}/3", "--no-captions",
                       "-o", f"out/shard{k}.parquet"], tmp_path) for k in (1, 2, 3)]
    whole = command(["--catalogue", "survey.parquet", "--path-column", "path", "--no-captions", "-o", "whole.parquet"],
                    tmp_path)
    logs = [finished(shard) for shard in shards]
    stderr = finished(whole)

    assert "skipped 2 unreadable" in stderr and "missing.jpg" in stderr and "also_missing.png" in stderr
    one_run = pd.read_parquet(tmp_path / "whole.parquet")
    assert one_run["objid"].tolist() == [i + 10**17 for i in range(20) if i not in (4, 11)]
    assert one_run["objid"].dtype == np.int64 and one_run["ra"].dtype == np.float64
    assert list(one_run.columns[:4]) == ["objid", "ra", "path", "class"] and "file" not in one_run
    together = pd.read_parquet(tmp_path / "out").sort_values("objid", ignore_index=True)  # a folder is one table
    pd.testing.assert_frame_equal(together.drop(columns="familiarity"), one_run.drop(columns="familiarity"))
    np.testing.assert_allclose(together["familiarity"], one_run["familiarity"], atol=1e-5)
    assert sum("skipped 1 unreadable" in log for log in logs) == 2


def test_shards_split_the_inputs_between_them_and_a_continued_run_skips_each_key_as_often_as_it_is_done():
    inputs = file_inputs([Path(f"{i}.jpg") for i in range(10)])
    shards = [inputs.shard(k, 3) for k in (1, 2, 3)]
    assert sorted(key for shard in shards for key in shard.keys) == sorted(inputs.keys)
    assert [len(shard) for shard in shards] == [4, 3, 3] and shards[1].keys == ["1.jpg", "4.jpg", "7.jpg"]
    twice = file_inputs([Path("a.jpg"), Path("b.jpg"), Path("a.jpg")])
    assert twice.without(Counter({"a.jpg": 1})).keys == ["b.jpg", "a.jpg"]
    for text in ("0/3", "4/3", "3", "a/b"):
        with pytest.raises(GzmorphError, match="give K/N with 1 <= K <= N"):
            parse_shard(text)
    assert parse_shard("2/5") == (2, 5)


def test_a_catalogue_resolves_relative_paths_from_its_folder_and_names_what_is_wrong(tmp_path):
    pd.DataFrame({"id": ["007", "8"], "file": ["a/x.jpg", "/abs/y.jpg"]}).to_csv(tmp_path / "cat.csv", index=False)
    inputs = catalogue_inputs(tmp_path / "cat.csv", "file")
    assert inputs.paths == [tmp_path / "a/x.jpg", Path("/abs/y.jpg")] and inputs.keys == ["a/x.jpg", "/abs/y.jpg"]
    assert inputs.table["id"].tolist() == [7, 8] and inputs.key_column == "file"
    with pytest.raises(GzmorphError, match="no 'path' column of cut-out paths .* --path-column"):
        catalogue_inputs(tmp_path / "cat.csv", "path")
    with pytest.raises(GzmorphError, match="a catalogue must be a .csv or .parquet"):
        catalogue_inputs(tmp_path / "cat.xlsx", "file")


def rows(keys) -> pd.DataFrame:
    return pd.DataFrame({"file": keys, "class": "spiral", "p_spiral": 0.5, "Class1.1": 0.25, "models": "m"})


def test_a_csv_cut_short_by_a_killed_process_continues_from_its_last_whole_row(tmp_path):
    path = tmp_path / "p.csv"
    with open_output(path, RUN, "file") as out:
        out.append(rows(["a", "b"]))
    with open(path, "a") as file:
        file.write("c,spir")  # a row a killed process left half written
    with open_output(path, RUN, "file") as out:
        assert out.done == Counter({"a": 1, "b": 1})
        out.append(rows(["c"]))
    assert pd.read_csv(path)["file"].tolist() == ["a", "b", "c"]
    with pytest.raises(GzmorphError, match=r"other models or settings \(precision: 'float32' there, 'bfloat16' now\)"):
        open_output(path, {**RUN, "precision": "bfloat16"}, "file")


def test_a_json_output_is_valid_json_when_closed_and_continues_after_a_cut(tmp_path):
    path = tmp_path / "p.json"
    with open_output(path, RUN, "file") as out:
        out.append(rows(["a", "b"]))
    document = json.loads(path.read_text())
    assert document["models"] == "m" and document[RUN_KEY] == RUN and "answers" not in document
    assert document["predictions"][0] == {"file": "a", "class": "spiral", "probabilities": {"spiral": 0.5},
                                          "votes": {"Class1.1": 0.25}}
    path.write_text(path.read_text().removesuffix("]}\n") + ',{"file": "c", "cla')  # killed mid-row
    with open_output(path, RUN, "file") as out:
        assert out.done == Counter({"a": 1, "b": 1})
        out.append(rows(["c"]))
    assert [r["file"] for r in json.loads(path.read_text())["predictions"]] == ["a", "b", "c"]


def test_parquet_parts_are_whole_files_until_the_run_finishes_and_then_one_file(tmp_path):
    path = tmp_path / "p.parquet"
    out = open_output(path, RUN, "file")
    out.append(rows(["a", "b"]))
    out.append(rows(["c"]))
    out.close(finished=False)
    parts = tmp_path / f"p.parquet{PARTS_SUFFIX}"
    assert not path.exists() and pd.read_parquet(parts)["file"].tolist() == ["a", "b", "c"]
    with open_output(path, RUN, "file") as out:
        assert out.done == Counter({"a": 1, "b": 1, "c": 1})
        out.append(rows(["d"]))
    assert pd.read_parquet(path)["file"].tolist() == ["a", "b", "c", "d"] and not parts.exists()
    assert pq.ParquetFile(path).num_row_groups == 1
    with pytest.raises(GzmorphError, match="other models or settings"):
        open_output(path, {**RUN, "models": "other"}, "file")


def test_inputs_keep_a_catalogues_rows_with_their_paths():
    table = pd.DataFrame({"id": [1, 2, 3], "path": ["a", "b", "c"]})
    inputs = Inputs([Path(p) for p in table["path"]], list(table["path"]), "path", table)
    chosen = inputs.without(Counter({"b": 1}))
    assert chosen.table["id"].tolist() == [1, 3] and chosen.paths == [Path("a"), Path("c")]


def test_a_finished_parquet_files_row_groups_gather_batches_up_to_their_size(tmp_path, monkeypatch):
    monkeypatch.setattr("gzmorph.inference.output.ROW_GROUP_ROWS", 3)
    path = tmp_path / "p.parquet"
    with open_output(path, RUN, "file") as out:
        for keys in (["a", "b"], ["c"], ["d"]):
            out.append(rows(keys))
    parquet = pq.ParquetFile(path)
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [3, 1]


def test_a_full_disk_ends_in_one_line_that_says_what_is_safe(tmp_path, monkeypatch):
    written = CsvOutput.append

    def full_after_one_batch(self, rows):
        if self.rows:
            raise OSError(28, "No space left on device")
        written(self, rows)

    monkeypatch.setattr(CsvOutput, "append", full_after_one_batch)
    galaxies = gzmorph.load(captions=False, precision="float32")
    output = tmp_path / "p.csv"
    with pytest.raises(GzmorphError, match=r"p.csv: cannot write \(No space left on device\); 2 row\(s\) are safe in "
                                           ".*p.csv: make room, then run the same command again"):
        galaxies.predict_into(output, file_inputs(IMAGES[:6]), batch_size=2)
    assert pd.read_csv(output)["file"].tolist() == [str(f) for f in IMAGES[:2]]
