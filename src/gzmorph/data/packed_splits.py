"""The packed splits as the models read them: images from a memory map, targets from the table."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.data.packing import read_images
from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import ID_COLUMN, VOTE_COLUMNS

SPLIT_NAMES = ("train", "val", "test")


@dataclass
class Split:
    images: np.ndarray  # (n, pixels, pixels, 3) uint8, memory-mapped
    table: pd.DataFrame  # GalaxyID, class, the vote columns the source table has

    @property
    def classes(self) -> np.ndarray:
        return self.table["class"].map(CLASSES.index).to_numpy(np.int64)

    @property
    def votes(self) -> np.ndarray:
        """(n, 37) float32 vote fractions; NaN marks a column the source table lacks."""
        return self.table.reindex(columns=VOTE_COLUMNS).to_numpy(np.float32)

    @property
    def vote_columns(self) -> list[str]:
        """The vote columns the source table has, in Kaggle's order."""
        return [c for c in VOTE_COLUMNS if c in self.table.columns]

    @property
    def ids(self) -> np.ndarray:
        return self.table[ID_COLUMN].to_numpy()


def split_paths(processed_dir: Path, name: str) -> tuple[Path, Path]:
    return processed_dir / f"{name}_images.npy", processed_dir / f"{name}.csv"


def load_split(processed_dir: Path, name: str) -> Split:
    images_file, table_file = split_paths(Path(processed_dir), name)
    for path in (images_file, table_file):
        if not path.is_file():
            raise GzmorphError(f"{path} is missing; run `dvc repro split` first")
    images = read_images(images_file)
    table = pd.read_csv(table_file)
    if len(images) != len(table):
        raise GzmorphError(f"{images_file} and {table_file} disagree in length; rerun `dvc repro split -f`")
    return Split(images, table)
