"""Benchmark the prediction outputs at survey scale: writing a million rows with embeddings as `gzmorph predict`
writes them (a batch of 512 at a time, through gzmorph.inference.output) and reading them back whole with
pandas, Parquet against CSV (and JSON), with the files' sizes.

    .venv/bin/python benchmarks/bench_tables.py [--rows 1000000] [--formats .parquet .csv]

The rows are made up but have the real table's columns and dtypes (the released model's 17 vote columns,
a caption, 256 embedding columns): what costs time is their number and types, not their values.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.gz2.rule import CLASSES
from gzmorph.inference.output import open_output
from gzmorph.inference.table import DECIMALS, EMBEDDING_PREFIX, PROBABILITY_PREFIX
from gzmorph.models.files import ClassifierRecord
from gzmorph.models.folder import ModelsFolder

BATCH = 512
EMBEDDINGS = 256


def batch_of_rows(rng: np.random.Generator, first: int, vote_columns: list[str]) -> pd.DataFrame:
    """A batch of the command's rows with --embeddings, in its column order and dtypes."""
    n = BATCH
    rows = pd.DataFrame({"file": [f"/survey/cutouts/{first + i:08d}.jpg" for i in range(n)],
                         "class": rng.choice(CLASSES, n)})
    for name in CLASSES:
        rows[PROBABILITY_PREFIX + name] = rng.random(n, np.float32).round(DECIMALS)
    for column in vote_columns:
        rows[column] = rng.random(n, np.float32).round(DECIMALS)
    rows["caption"] = "a smooth galaxy, completely round"
    rows["single_band"] = False
    rows["familiarity"] = rng.random(n).round(DECIMALS)
    rows["familiar"] = rows["familiarity"] <= 1
    embeddings = pd.DataFrame(rng.random((n, EMBEDDINGS), np.float32),
                              columns=[f"{EMBEDDING_PREFIX}{i}" for i in range(EMBEDDINGS)])
    rows = pd.concat([rows, embeddings], axis=1)
    rows["models"] = "released"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", nargs="+", default=[".parquet", ".csv"])
    args = parser.parse_args()
    folder = ModelsFolder.released()
    vote_columns = folder.record(ClassifierRecord, "").decision.vote_columns
    run = {"models": "released", "vote_columns": vote_columns}
    rng = np.random.default_rng(0)
    batches = [batch_of_rows(rng, first, vote_columns) for first in range(0, args.rows, BATCH)]
    print(f"{sum(len(b) for b in batches):,} rows x {batches[0].shape[1]} columns ({EMBEDDINGS} embeddings), "
          f"written {BATCH} rows at a time")
    with tempfile.TemporaryDirectory() as scratch:
        for suffix in args.formats:
            path = Path(scratch) / f"predictions{suffix}"
            start = time.perf_counter()
            with open_output(path, run, "file") as out:
                for batch in batches:
                    out.append(batch)
            written = time.perf_counter() - start
            start = time.perf_counter()
            table = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
            read = time.perf_counter() - start
            print(f"{suffix:8} write {written:6.1f} s, read {read:6.1f} s, {path.stat().st_size / 2**20:,.0f} MiB, "
                  f"{len(table):,} rows read back")


if __name__ == "__main__":
    main()
