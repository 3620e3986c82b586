"""Stratified train/val/test assignment: every class keeps its share in each split."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.data.packed_splits import SPLIT_NAMES, split_paths
from gzmorph.data.packing import Packed, drop_unusable_rows, pack_images
from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import ID_COLUMN


def assign_splits(labels: pd.DataFrame, val_fraction: float, test_fraction: float, seed: int) -> pd.DataFrame:
    """GalaxyID, class and split for every galaxy, the same for the same seed whatever the row order.

    Within each class the galaxies are shuffled and cut at the fractions, so even a class of a handful
    of galaxies is spread over the splits (scikit-learn's stratified splitter refuses classes below 2).
    """
    table = labels[[ID_COLUMN, "class"]].sort_values(ID_COLUMN).reset_index(drop=True)
    split = np.empty(len(table), dtype=object)
    rng = np.random.default_rng(seed)
    for _, rows in table.groupby("class", sort=True).groups.items():
        rows = rng.permutation(np.asarray(rows))
        n_test = int(round(len(rows) * test_fraction))
        n_val = int(round(len(rows) * val_fraction))
        split[rows[:n_test]] = "test"
        split[rows[n_test:n_test + n_val]] = "val"
        split[rows[n_test + n_val:]] = "train"
    table["split"] = split
    missing = [name for name in SPLIT_NAMES if not (table["split"] == name).any()]
    if missing:
        raise GzmorphError(f"too few galaxies ({len(table)}) to fill the {', '.join(missing)} split; "
                           "add data or change split.val_fraction / split.test_fraction")
    return table


def pack_splits(labels: pd.DataFrame, assignment: pd.DataFrame, image_dir: Path, out_dir: Path,
                crop: int, pixels: int, workers: int) -> tuple[pd.DataFrame, dict]:
    """Decode, crop, resize and pack each split; returns the assignment of the usable galaxies and a report.

    An image that cannot be decoded loses its galaxy from the split, counted by split in the report and
    named in ``problems``, so that nothing is dropped silently.
    """
    kept, report, problems = [], {}, []
    for name in SPLIT_NAMES:
        ids = assignment.loc[assignment["split"] == name, ID_COLUMN]
        rows, packed = pack_split(labels.set_index(ID_COLUMN).loc[ids].reset_index(), image_dir, out_dir, name,
                                  crop, pixels, workers)
        kept.append(assignment[assignment[ID_COLUMN].isin(rows[ID_COLUMN])])
        problems += [reason for _, reason in packed.problems]
        report.update({f"{name}_galaxies": len(rows), f"{name}_unreadable_images": int((~packed.usable).sum())})
        report.update({f"{name}_{c}": int((rows["class"] == c).sum()) for c in CLASSES})
    return pd.concat(kept).sort_values(ID_COLUMN).reset_index(drop=True), {**report, "problems": problems}


def pack_split(rows: pd.DataFrame, image_dir: Path, out_dir: Path, name: str, crop: int, pixels: int,
               workers: int) -> tuple[pd.DataFrame, Packed]:
    """Split ``name`` of ``out_dir`` as ``load_split`` reads it: the images of ``rows`` (their ``image``
    column names the files) packed, and the table of those that could be read; returns that table."""
    images_file, table_file = split_paths(out_dir, name)
    # Packed under another name: a killed run must not leave a half-written array under the real
    # one, where it would pass for finished next to an earlier run's table of the same length.
    partial_file = images_file.with_name(images_file.name + ".partial")
    packed = pack_images([image_dir / f for f in rows["image"]], partial_file, crop, pixels, workers)
    drop_unusable_rows(partial_file, packed.usable)
    rows = rows[packed.usable].drop(columns="image")
    rows.to_csv(table_file, index=False)
    os.replace(partial_file, images_file)
    return rows, packed
