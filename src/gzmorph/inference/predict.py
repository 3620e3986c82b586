"""Image files or arrays in, prediction rows out, batch by batch, for ``gzmorph predict`` and the Python API:
each batch decoded as training's images were (gzmorph.data.decoding), answered by the one forward pass
(gzmorph.models.loaded.predict_images) with the settings the models folder carries, then made rows of the
one schema (gzmorph.inference.table). TTA is off unless asked: eight views cost eight forward passes, and on
the real Kaggle test split they moved accuracy by under one point.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from tqdm import tqdm

from gzmorph.data.decoding import check_batch_size, decoded_batches, galaxy_from_array
from gzmorph.data.fits import SDSS_STRETCH, LuptonStretch
from gzmorph.data.inputs import Inputs, file_inputs
from gzmorph.errors import GzmorphError
from gzmorph.inference.gradcam import draw_heatmaps
from gzmorph.inference.table import joined, prediction_rows
from gzmorph.models.loaded import Models, predict_images
from gzmorph.params import Params


class Answered(NamedTuple):
    rows: pd.DataFrame  # the batch's readable inputs, answered
    problems: list[str]  # one line per input of the batch that could not be read


def answered_batches(inputs: Inputs, models: Models, settings: Params, batch_size: int, embeddings: bool = False,
                     lupton: LuptonStretch = SDSS_STRETCH, gradcam_dir: Path | None = None) -> Iterator[Answered]:
    """The prediction rows of ``inputs``, batch by batch (a catalogue's own columns first), each image
    centre-cropped by ``settings.image.crop`` (a FITS cut-out made a colour picture by the ``lupton``
    stretch); the next batch decodes while this one is answered."""
    heatmap_names: set[str] = set()
    if gradcam_dir is not None:
        Path(gradcam_dir).mkdir(parents=True, exist_ok=True)
    for batch in decoded_batches(inputs.paths, settings.image.crop, models.pixels, batch_size, lupton):
        if not len(batch.paths):
            yield Answered(pd.DataFrame(), batch.problems)
            continue
        predictions = predict_images(models, batch.images, settings, embeddings)
        heatmaps = None if gradcam_dir is None else draw_heatmaps(
            models.classifier.model, batch.images, predictions.classes, batch.paths, gradcam_dir, heatmap_names)
        rows = prediction_rows(predictions, models.vote_columns, models.folder.name, batch.paths, heatmaps)
        if inputs.table is not None:
            rows = joined(inputs.table.iloc[batch.positions], rows)
        yield Answered(rows, batch.problems)


def progress_bar(total: int, done: int = 0) -> tqdm:
    return tqdm(total=total, initial=done, desc="predicting", unit="img", file=sys.stderr)


def predict_files(paths: list[Path], models: Models, settings: Params, batch_size: int,
                  gradcam_dir: Path | None = None, embeddings: bool = False,
                  lupton: LuptonStretch = SDSS_STRETCH) -> tuple[pd.DataFrame, list[str]]:
    """``predict_inputs`` for image files."""
    return predict_inputs(file_inputs(paths), models, settings, batch_size, gradcam_dir, embeddings, lupton)


def predict_inputs(inputs: Inputs, models: Models, settings: Params, batch_size: int,
                   gradcam_dir: Path | None = None, embeddings: bool = False,
                   lupton: LuptonStretch = SDSS_STRETCH) -> tuple[pd.DataFrame, list[str]]:
    """The prediction table of the readable inputs, held in memory (a catalogue's rows keep their index), and
    one line per input that could not be read (``gzmorph.inference.streaming`` writes a large run's rows as
    they come instead)."""
    tables, problems = [], []
    with progress_bar(len(inputs)) as progress:
        for answered in answered_batches(inputs, models, settings, batch_size, embeddings, lupton, gradcam_dir):
            for problem in answered.problems:
                progress.write(f"skipped: {problem}", file=sys.stderr)
            problems += answered.problems
            progress.update(len(answered.rows) + len(answered.problems))
            tables.append(answered.rows)
    if not sum(len(table) for table in tables):
        raise GzmorphError(f"none of the {len(inputs)} file(s) could be read as an image; see the lines above")
    rows = pd.concat([table for table in tables if len(table)])
    return (rows.reset_index(drop=True) if inputs.table is None else rows), problems


def predict_arrays(images: np.ndarray, models: Models, settings: Params, batch_size: int,
                   embeddings: bool = False) -> pd.DataFrame:
    """The prediction table of full cut-outs held in memory, (n, height, width, 3) or (n, height, width)
    uint8: each gets the crop (``settings.image.crop``) and resize a file gets."""
    check_batch_size(batch_size)
    tables = []
    for start in tqdm(range(0, len(images), batch_size), desc="predicting", unit="batch", file=sys.stderr):
        batch = np.stack([galaxy_from_array(image, settings.image.crop, models.pixels)
                          for image in images[start:start + batch_size]])
        tables.append(prediction_rows(predict_images(models, batch, settings, embeddings), models.vote_columns,
                                      models.folder.name))
    return pd.concat(tables, ignore_index=True)
