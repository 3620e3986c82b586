"""A predictions table read as a catalogue to search: from CSV or Parquet, its embeddings as one matrix,
and its rows named by file, file name or ID."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.inference.table import EMBEDDING_PREFIX, FILE_COLUMN, MODELS_COLUMN

Source = str | Path | pd.DataFrame  # a predictions table's file, or the table itself
READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet}
WRITERS = {".csv": lambda table, path: table.to_csv(path, index=False),
           ".parquet": lambda table, path: table.to_parquet(path, index=False)}


@dataclass
class Catalogue:
    """A predictions table with embeddings; ``path`` is where it was read from (None for a DataFrame), beside
    which its index is kept."""

    table: pd.DataFrame
    path: Path | None = None

    @classmethod
    def read(cls, source: Source | Catalogue, embeddings: bool = True) -> Catalogue:
        """The table at ``source`` (or the DataFrame), checked to hold rows and, where ``embeddings``, embeddings."""
        if isinstance(source, Catalogue):
            return source.checked(source.name, embeddings)
        if isinstance(source, pd.DataFrame):
            return cls(source.reset_index(drop=True)).checked("the table", embeddings)
        path = Path(source)
        reader = READERS.get(path.suffix.lower())
        if reader is None:
            raise GzmorphError(f"{path}: a predictions table to search is .csv or .parquet (gzmorph predict "
                               "--embeddings --output NAME.csv)")
        if not path.is_file():
            raise GzmorphError(f"{path}: no such predictions table; make one with gzmorph predict IMAGES "
                               f"--embeddings --output {path}")
        return cls(reader(path), path).checked(str(path), embeddings)

    def checked(self, name: str, embeddings: bool = True) -> Catalogue:
        if embeddings and not self.embedding_columns:
            raise GzmorphError(f"{name}: no {EMBEDDING_PREFIX}* columns to search; predict it again with "
                               "--embeddings (embeddings=True in Python)")
        if not len(self.table):
            raise GzmorphError(f"{name}: no rows to search")
        return self

    @cached_property
    def embedding_columns(self) -> list[str]:
        columns = [c for c in self.table.columns if str(c).startswith(EMBEDDING_PREFIX)]
        return sorted(columns, key=lambda c: int(c[len(EMBEDDING_PREFIX):]))

    @cached_property
    def vectors(self) -> np.ndarray:
        """(n, d) float32, the rows' embeddings in order."""
        return np.ascontiguousarray(self.table[self.embedding_columns].to_numpy(np.float32))

    @property
    def name(self) -> str:
        return str(self.path) if self.path else "the table"

    @property
    def models(self) -> set[str]:
        """The models that wrote the table, as its ``models`` column names them (none when it has no such column)."""
        return set(self.table[MODELS_COLUMN].dropna().astype(str)) if MODELS_COLUMN in self.table else set()

    def described(self, rows) -> pd.DataFrame:
        """The catalogue's rows without their embeddings, for a result a person reads."""
        return self.table.iloc[rows].drop(columns=self.embedding_columns)

    def row_named(self, name: str) -> int | None:
        """The one row whose file, file name, file stem or an ID column equals ``name``; None where no row
        does. A name matching several rows is an error: a search from one of them would be a guess."""
        matches = np.zeros(len(self.table), bool)
        for values in self.names():
            matches |= values == name
        found = np.flatnonzero(matches)
        if len(found) > 1:
            raise GzmorphError(f"{name}: {len(found)} rows of {self.name} answer to this name; give the "
                               f"{FILE_COLUMN} column's full path instead")
        return int(found[0]) if len(found) else None

    def names(self) -> list[np.ndarray]:
        """What a row may be called by: its file as written, the file's name and stem, and any ID column."""
        names = []
        if FILE_COLUMN in self.table:
            files = self.table[FILE_COLUMN].astype(str)
            names += [files.to_numpy(), files.map(lambda f: Path(f).name).to_numpy(),
                      files.map(lambda f: Path(f).stem).to_numpy()]
        ids = [c for c in self.table.columns if str(c).lower().endswith("id") and c not in self.embedding_columns]
        return names + [self.table[c].astype(str).to_numpy() for c in ids]


def check_results(path: Path) -> Path:
    """Fail before any work when a result table's format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in WRITERS:
        raise GzmorphError(f"{path}: a result table is written as .csv or .parquet")
    return path


def write_results(table: pd.DataFrame, path: Path) -> None:
    path = check_results(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    WRITERS[path.suffix.lower()](table, path)
