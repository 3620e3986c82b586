"""Where a prediction run's rows go as they are made: CSV, JSON or Parquet, appended batch by batch, so that a
run stopped at any point keeps every row it finished, and the same command run again continues it.

Each output carries its run record (the models, what they learnt from, the precision and the settings the
rows were made with): an output from another run is refused, never mixed. The rows already in it are known
by their key (the file, or a catalogue's path column), not by position.

- CSV: rows are appended to the file and flushed to the disk batch by batch; a row cut short by a killed
  process is dropped when the run continues. The run record lies beside it, in ``NAME.csv.run.json``.
- JSON: one record a line between a header line (the run record, as before the predictions) and ``]}``,
  which closing writes, on a stop too; only a killed run's file lacks it until the run is continued.
- Parquet: a file is readable only once its footer is written at the end, so while a run goes on its rows are
  written as one small Parquet file a batch in ``NAME.parquet.parts/`` (each complete, written under another
  name and renamed, so a killed process leaves no half file; pandas and pyarrow read the folder as one
  table). A finished run joins them into ``NAME.parquet``, in row groups of ROW_GROUP_ROWS, the run record in
  its metadata, and removes the folder.
"""
from __future__ import annotations

import json
import os
import shutil
from abc import ABC, abstractmethod
from collections import Counter
from pathlib import Path

import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.inference.table import MODELS_COLUMN, json_records

RUN_KEY = "gzmorph"  # the run record's key in a Parquet file's metadata and a JSON output's header
PREDICTIONS_KEY = "predictions"  # the JSON output's list of rows
PARTS_SUFFIX, RUN_SUFFIX, UNFINISHED = ".parts", ".run.json", ".unfinished"
ROW_GROUP_ROWS = 65_536  # a finished Parquet file's row groups: ~75 MB with embeddings, held once while joining


class Output(ABC):
    """Rows appended to ``path`` as they come; ``done`` counts the keys already there (a continued run)."""

    def __init__(self, path: Path, run: dict, key: str):
        self.path, self.run, self.key = Path(path), run, key
        self.done: Counter[str] = Counter()
        self.rows = 0  # rows in the output, from this run and earlier ones
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Output:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(finished=kind is None)

    @abstractmethod
    def append(self, rows: pd.DataFrame) -> None:
        """``rows`` on the disk before this returns."""

    @abstractmethod
    def close(self, finished: bool) -> None:
        """``finished``: every input is in; otherwise the run was stopped and will be continued."""

    def refuse_other_runs(self, found: dict | None, where: Path) -> None:
        if found is None:
            raise GzmorphError(f"{where}: no gzmorph run record in it; name another --output, or delete it")
        if found != self.run:
            key, there, now = first_difference(found, self.run)
            raise GzmorphError(f"{where} holds predictions made with other models or settings ({key}: {there!r} "
                               f"there, {now!r} now); name another --output, or delete it to start again")

    def count(self, keys) -> None:
        keys = [str(key) for key in keys]
        self.done.update(keys)
        self.rows += len(keys)


def first_difference(there: dict, now: dict, prefix: str = "") -> tuple[str, object, object]:
    """The dotted key of the first value that differs between two run records, and its two values."""
    for key in {**there, **now}:
        old, new = there.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict) and old != new:
            return first_difference(old, new, f"{prefix}{key}.")
        if old != new:
            return f"{prefix}{key}", old, new
    raise ValueError("the records are the same")


def open_output(path: Path, run: dict, key: str) -> Output:
    """The output for ``path`` by its suffix, continuing what an earlier run of the same ``run`` left there."""
    kinds = {".csv": CsvOutput, ".json": JsonOutput, ".parquet": ParquetOutput}
    return kinds[Path(path).suffix.lower()](path, run, key)


class CsvOutput(Output):
    def __init__(self, path: Path, run: dict, key: str):
        super().__init__(path, run, key)
        self.record = self.path.with_name(self.path.name + RUN_SUFFIX)
        self.header: list[str] | None = None
        if self.path.is_file() and self.path.stat().st_size:
            self.refuse_other_runs(json.loads(self.record.read_text()) if self.record.is_file() else None,
                                   self.path)
            cut_torn_line(self.path)
            self.header = list(pd.read_csv(self.path, nrows=0).columns)
            if key in self.header:
                self.count(pd.read_csv(self.path, usecols=[key], dtype=str, keep_default_na=False)[key])
        else:
            self.record.write_text(json.dumps(run, indent=1) + "\n")
        self.file = open(self.path, "a", newline="")

    def append(self, rows: pd.DataFrame) -> None:
        if self.header is not None and list(rows.columns) != self.header:
            raise GzmorphError(f"{self.path}: its columns are not this run's; name another --output")
        rows.to_csv(self.file, header=self.header is None, index=False)
        self.header = list(rows.columns)
        flushed(self.file)
        self.count(rows[self.key])

    def close(self, finished: bool) -> None:
        self.file.close()


class JsonOutput(Output):
    """The document {<run record>, "predictions": [<row>, ...]}, written a line a row."""

    def __init__(self, path: Path, run: dict, key: str):
        super().__init__(path, run, key)
        self.vote_columns = run["vote_columns"]
        if self.path.is_file() and self.path.stat().st_size:
            header, records = self.read_back()
            self.refuse_other_runs(header.get(RUN_KEY), self.path)
            self.count(record[key] for record in records if key in record)
        else:
            header = {name: value for name, value in run.items() if not isinstance(value, dict | list)}
            opening = json.dumps({**header, RUN_KEY: run})[:-1] + f', "{PREDICTIONS_KEY}": [\n'
            self.path.write_text(opening)
        self.file = open(self.path, "a")

    def read_back(self) -> tuple[dict, list[dict]]:
        """The header and the whole records of the file, which is cut back to its last whole record (a closed
        file's ``]}`` and a killed run's half line go) so that appending continues the list."""
        lines = self.path.read_text().split("\n")
        opening = lines[0]
        try:
            header = json.loads(opening[:opening.rindex(f', "{PREDICTIONS_KEY}": [')] + "}")
        except ValueError:
            raise GzmorphError(f"{self.path}: not a gzmorph prediction file; name another --output, or delete "
                               "it") from None
        records, kept = [], [opening]
        for line in lines[1:]:
            try:
                records.append(json.loads(line.removeprefix(",")))
            except ValueError:
                break  # the closing "]}", or a line cut short
            kept.append(line)
        self.path.write_text("\n".join(kept) + "\n")
        return header, records

    def append(self, rows: pd.DataFrame) -> None:
        for record in json_records(rows.drop(columns=MODELS_COLUMN), self.vote_columns):
            self.file.write(("," if self.rows else "") + json.dumps(record) + "\n")
            self.count([record[self.key]])
        flushed(self.file)

    def close(self, finished: bool) -> None:
        self.file.write("]}\n")  # valid JSON whenever the run could close it; continuing cuts it off again
        self.file.close()


class ParquetOutput(Output):
    def __init__(self, path: Path, run: dict, key: str):
        super().__init__(path, run, key)
        import pyarrow as pa  # only where Parquet is asked for
        import pyarrow.parquet as pq

        self.pa, self.pq, self.schema = pa, pq, None
        self.parts = self.path.with_name(self.path.name + PARTS_SUFFIX)
        for file in self.files():
            found = pq.read_schema(file).metadata or {}
            self.refuse_other_runs(json.loads(found[RUN_KEY.encode()]) if RUN_KEY.encode() in found else None, file)
            self.count(pq.read_table(file, columns=[key]).column(key).to_pylist())

    def files(self) -> list[Path]:
        """The finished output of an earlier run, and the parts of an unfinished one, in order."""
        earlier = [self.path] if self.path.is_file() else []
        return earlier + (sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else [])

    def append(self, rows: pd.DataFrame) -> None:
        table = self.pa.Table.from_pandas(rows, schema=self.schema, preserve_index=False)
        if self.schema is None:
            self.schema = table.schema.with_metadata({RUN_KEY: json.dumps(self.run)})
            table = table.replace_schema_metadata(self.schema.metadata)
        self.parts.mkdir(exist_ok=True)
        part = self.parts / f"part-{len(list(self.parts.glob('part-*.parquet'))):06d}.parquet"
        self.pq.write_table(table, part.with_name(part.name + UNFINISHED))
        os.replace(part.with_name(part.name + UNFINISHED), part)
        self.count(rows[self.key])

    def close(self, finished: bool) -> None:
        """A finished run's rows joined into one file, read a part at a time and written in row groups of
        ROW_GROUP_ROWS (a row group a batch would cost a reader more than the rows: 512-row groups read a million
        rows with embeddings more slowly than CSV)."""
        files = self.files()
        if not finished or not self.parts.is_dir() or not files:
            return
        joining = self.path.with_name(self.path.name + UNFINISHED)
        schema = self.schema or self.pq.read_schema(files[-1])
        with self.pq.ParquetWriter(joining, schema) as writer:
            waiting, rows = [], 0
            for file in files:
                waiting.append(self.pq.read_table(file).cast(schema))
                rows += waiting[-1].num_rows
                if rows >= ROW_GROUP_ROWS:
                    writer.write_table(self.pa.concat_tables(waiting), row_group_size=ROW_GROUP_ROWS)
                    waiting, rows = [], 0
            if waiting:
                writer.write_table(self.pa.concat_tables(waiting), row_group_size=ROW_GROUP_ROWS)
        os.replace(joining, self.path)
        shutil.rmtree(self.parts)


def written_to(path: Path) -> Path:
    """Where an unfinished run's rows are: a Parquet output's parts folder, any other output itself."""
    path = Path(path)
    return path.with_name(path.name + PARTS_SUFFIX) if path.suffix.lower() == ".parquet" else path


def flushed(file) -> None:
    """``file``'s rows on the disk, not in a buffer a killed process would lose."""
    file.flush()
    os.fsync(file.fileno())


def cut_torn_line(path: Path) -> None:
    """Drop a last line that a killed process left without its end."""
    with open(path, "rb+") as file:
        size = file.seek(0, os.SEEK_END)
        start = max(0, size - (1 << 20))
        file.seek(start)
        tail = file.read()
        if tail.endswith(b"\n"):
            return
        last_end = tail.rfind(b"\n")
        file.truncate(start + last_end + 1 if last_end >= 0 else 0)
