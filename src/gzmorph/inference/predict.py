"""Image files or arrays in, the prediction table out, for ``gzmorph predict`` and the Python API: each
batch decoded as training's images were (gzmorph.data.decoding), answered by the one forward pass
(gzmorph.models.loaded.predict_images) with the settings the models folder carries, then made rows
(gzmorph.inference.table). TTA is off unless asked: eight views cost eight forward passes, and on the real
Kaggle test split they moved accuracy by under one point.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from gzmorph.data.decoding import check_batch_size, decoded_batches, galaxy_from_array
from gzmorph.data.fits import SDSS_STRETCH, LuptonStretch
from gzmorph.errors import GzmorphError
from gzmorph.inference.gradcam import draw_heatmaps
from gzmorph.inference.table import prediction_rows
from gzmorph.models.loaded import Models, predict_images
from gzmorph.params import Params


def predict_files(paths: list[Path], models: Models, settings: Params, batch_size: int,
                  gradcam_dir: Path | None = None, embeddings: bool = False,
                  lupton: LuptonStretch = SDSS_STRETCH) -> tuple[pd.DataFrame, list[str]]:
    """The prediction table of the readable files, each centre-cropped by ``settings.image.crop`` (a FITS
    cut-out made a colour picture by the ``lupton`` stretch), and one line per file that could not be read."""
    tables, problems, heatmap_names = [], [], set()
    if gradcam_dir is not None:
        Path(gradcam_dir).mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(paths), desc="predicting", unit="img", file=sys.stderr) as progress:
        for batch in decoded_batches(paths, settings.image.crop, models.pixels, batch_size, lupton):
            for problem in batch.problems:
                progress.write(f"skipped: {problem}", file=sys.stderr)
            problems += batch.problems
            progress.update(len(batch.paths) + len(batch.problems))
            if not len(batch.paths):
                continue
            predictions = predict_images(models, batch.images, settings, embeddings)
            tables.append(prediction_rows(predictions, models.vote_columns, batch.paths))
            if gradcam_dir is not None:
                tables[-1]["gradcam"] = draw_heatmaps(models.classifier.model, batch.images, predictions.classes,
                                                      batch.paths, gradcam_dir, heatmap_names)
    if not tables:
        raise GzmorphError(f"none of the {len(paths)} file(s) could be read as an image; see the lines above")
    return pd.concat(tables, ignore_index=True), problems


def predict_arrays(images: np.ndarray, models: Models, settings: Params, batch_size: int,
                   embeddings: bool = False) -> pd.DataFrame:
    """The prediction table of full cut-outs held in memory, (n, height, width, 3) or (n, height, width)
    uint8: each gets the crop (``settings.image.crop``) and resize a file gets."""
    check_batch_size(batch_size)
    tables = []
    for start in tqdm(range(0, len(images), batch_size), desc="predicting", unit="batch", file=sys.stderr):
        batch = np.stack([galaxy_from_array(image, settings.image.crop, models.pixels)
                          for image in images[start:start + batch_size]])
        tables.append(prediction_rows(predict_images(models, batch, settings, embeddings), models.vote_columns))
    return pd.concat(tables, ignore_index=True)
