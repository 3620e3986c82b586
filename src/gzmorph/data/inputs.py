"""What a prediction run reads: the image files a user names, or a survey's catalogue (a CSV or Parquet
table with a column of cut-out paths, its other columns carried through to the output), and the share of
it one job of a cluster's array takes (``--shard K/N``)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gzmorph.errors import GzmorphError

CATALOGUE_FORMATS = (".csv", ".parquet")
FILE_KEY = "file"  # the output's column naming each row's file, where the inputs are files


@dataclass(frozen=True)
class Inputs:
    paths: list[Path]  # the files to read, in order
    keys: list[str]  # what names each one's row in the output: the file as given, or the catalogue's path column
    key_column: str  # the output's column holding the keys
    table: pd.DataFrame | None = None  # a catalogue's rows, one per path; None for files named directly

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, chosen: list[int]) -> Inputs:
        table = None if self.table is None else self.table.iloc[chosen]
        return Inputs([self.paths[i] for i in chosen], [self.keys[i] for i in chosen], self.key_column, table)

    def shard(self, shard: int, shards: int) -> Inputs:
        """Shard ``shard`` of ``shards`` (1-based): every ``shards``-th input, so the shards of one catalogue
        hold each input once between them, and hold the same ones however often they run."""
        return self.subset(list(range(shard - 1, len(self), shards)))

    def without(self, done: Counter[str]) -> Inputs:
        """The inputs whose rows are not among ``done`` (keys already in the output): a key named twice is
        skipped as often as it is there."""
        left, chosen = Counter(done), []
        for i, key in enumerate(self.keys):
            if left[key]:
                left[key] -= 1
            else:
                chosen.append(i)
        return self.subset(chosen)


def file_inputs(paths: list[Path]) -> Inputs:
    return Inputs(list(paths), [str(path) for path in paths], FILE_KEY)


def catalogue_inputs(path: Path, path_column: str) -> Inputs:
    """The rows of the catalogue at ``path``, each cut-out's path from ``path_column``, a relative one from the
    catalogue's own folder."""
    table = read_catalogue(path, path_column)
    if path_column not in table.columns:
        raise GzmorphError(f"{path}: no {path_column!r} column of cut-out paths (it has {', '.join(table.columns)}); "
                           "name it with --path-column")
    names = table[path_column]
    if names.isna().any():
        raise GzmorphError(f"{path}: row {int(names.isna().to_numpy().argmax()) + 2} has no path in {path_column!r}")
    folder = Path(path).parent
    paths = [Path(name) if Path(name).is_absolute() else folder / name for name in names.astype(str)]
    return Inputs(paths, list(names.astype(str)), path_column, table.reset_index(drop=True))


def read_catalogue(path: Path, path_column: str) -> pd.DataFrame:
    """The table, its path column as text and its other columns as their own types."""
    path = Path(path)
    if path.suffix.lower() not in CATALOGUE_FORMATS:
        raise GzmorphError(f"{path}: a catalogue must be a .csv or .parquet table")
    if not path.is_file():
        raise GzmorphError(f"{path}: no such catalogue")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={path_column: str})
    except (ValueError, OSError) as error:
        raise GzmorphError(f"{path}: cannot read the catalogue ({str(error).splitlines()[0]})") from None


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` as (K, N), 1 <= K <= N."""
    try:
        shard, shards = (int(part) for part in text.split("/"))
    except ValueError:
        shard = shards = 0
    if not 1 <= shard <= shards:
        raise GzmorphError(f"--shard {text}: give K/N with 1 <= K <= N, e.g. --shard 3/10 for the third of ten "
                           "(SLURM: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N)")
    return shard, shards
