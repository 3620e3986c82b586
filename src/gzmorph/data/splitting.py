"""Stratified train/val/test assignment: every class keeps its share in each split."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.data.packed_splits import SPLIT_NAMES, split_paths
from gzmorph.data.packing import Packed, drop_unusable_rows, pack_images
from gzmorph.data.sources import SOURCE_COLUMN
from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import ID_COLUMN


def assign_splits(labels: pd.DataFrame, val_fraction: float, test_fraction: float, seed: int) -> pd.DataFrame:
    """GalaxyID, class, source (where the labels have one) and split for every galaxy, the same for the same
    seed whatever the row order.

    Each source is split on its own, from the seed alone, so a catalogue's galaxies fall in the same splits
    whether it is the main source or another's companion. Within each class the galaxies are shuffled and cut
    at the fractions, so even a class of a handful of galaxies is spread over the splits (scikit-learn's
    stratified splitter refuses classes below 2).
    """
    columns = [ID_COLUMN, "class", *([SOURCE_COLUMN] if SOURCE_COLUMN in labels else [])]
    table = labels[columns].sort_values(ID_COLUMN).reset_index(drop=True)
    catalogues = table.groupby(SOURCE_COLUMN, sort=False).groups.values() if SOURCE_COLUMN in table else [table.index]
    split = np.empty(len(table), dtype=object)
    for catalogue in catalogues:
        rng = np.random.default_rng(seed)
        for _, rows in table.loc[catalogue].groupby("class", sort=True).groups.items():
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


def pack_splits(labels: pd.DataFrame, assignment: pd.DataFrame, image_dirs: dict[str, Path] | Path, out_dir: Path,
                crop: int, pixels: int, workers: int) -> tuple[pd.DataFrame, dict]:
    """Decode, crop, resize and pack each split; returns the assignment of the usable galaxies and a report.

    An image that cannot be decoded loses its galaxy from the split, counted by split in the report and
    named in ``problems``, so that nothing is dropped silently. ``image_dirs``: each source's image folder
    (gzmorph.data.sources.image_dirs), or the one folder of labels without sources.
    """
    kept, report, problems = [], {}, []
    for name in SPLIT_NAMES:
        ids = assignment.loc[assignment["split"] == name, ID_COLUMN]
        rows = labels.set_index(ID_COLUMN).loc[ids].reset_index()
        rows, packed = pack_split(rows, image_files(rows, image_dirs), out_dir, name, crop, pixels, workers)
        kept.append(assignment[assignment[ID_COLUMN].isin(rows[ID_COLUMN])])
        problems += [reason for _, reason in packed.problems]
        report.update({f"{name}_galaxies": len(rows), f"{name}_unreadable_images": int((~packed.usable).sum())})
        report.update({f"{name}_{c}": int((rows["class"] == c).sum()) for c in CLASSES})
    kept = pd.concat(kept).sort_values(ID_COLUMN).reset_index(drop=True)
    if SOURCE_COLUMN in kept and kept[SOURCE_COLUMN].nunique() > 1:
        report["sources"] = {str(source): {f"{name}_galaxies": int((rows["split"] == name).sum())
                                           for name in SPLIT_NAMES}
                             for source, rows in kept.groupby(SOURCE_COLUMN, sort=False)}
    return kept, {**report, "problems": problems}


def image_files(rows: pd.DataFrame, image_dirs: dict[str, Path] | Path) -> list[Path]:
    """The image file of each row: its ``image`` in its source's folder."""
    if isinstance(image_dirs, dict):
        return [image_dirs[str(source)] / name for source, name in zip(rows[SOURCE_COLUMN], rows["image"])]
    return [Path(image_dirs) / name for name in rows["image"]]


def pack_split(rows: pd.DataFrame, files: list[Path], out_dir: Path, name: str, crop: int, pixels: int,
               workers: int) -> tuple[pd.DataFrame, Packed]:
    """Split ``name`` of ``out_dir`` as ``load_split`` reads it: the image ``files`` of ``rows`` packed, and
    the table of those that could be read; returns that table."""
    images_file, table_file = split_paths(out_dir, name)
    # Packed under another name: a killed run must not leave a half-written array under the real
    # one, where it would pass for finished next to an earlier run's table of the same length.
    partial_file = images_file.with_name(images_file.name + ".partial")
    packed = pack_images(files, partial_file, crop, pixels, workers)
    drop_unusable_rows(partial_file, packed.usable)
    rows = rows[packed.usable].drop(columns="image")
    rows.to_csv(table_file, index=False)
    os.replace(partial_file, images_file)
    return rows, packed
