"""``gzmorph predict``: many image files through the models in batches, unreadable files reported and skipped."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from gzmorph.data.files import DecodedFiles, decoded_batches
from gzmorph.errors import GzmorphError
from gzmorph.inference.gradcam import gradcam
from gzmorph.inference.output import heatmap_paths, prediction_rows, write_heatmap
from gzmorph.inference.predict import Models, Settings, predict_images


def predict_files(paths: list[Path], models: Models, settings: Settings, batch_size: int,
                  gradcam_dir: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The prediction table of the readable files, and one line per file that could not be read."""
    tables, problems, heatmap_names = [], [], set()
    if gradcam_dir is not None:
        Path(gradcam_dir).mkdir(parents=True, exist_ok=True)
    progress = tqdm(total=len(paths), desc="predicting", unit="img", file=sys.stderr)
    with progress:
        for batch in decoded_batches(paths, models.crop, models.pixels, batch_size):
            for problem in batch.problems:
                progress.write(f"skipped: {problem}", file=sys.stderr)
            problems += batch.problems
            if len(batch.paths):
                tables.append(predict_batch(batch, models, settings, gradcam_dir, heatmap_names))
            progress.update(len(batch.paths) + len(batch.problems))
    if not tables:
        raise GzmorphError(f"none of the {len(paths)} file(s) could be read as an image; see the lines above")
    return pd.concat(tables, ignore_index=True), problems


def predict_batch(batch: DecodedFiles, models: Models, settings: Settings, gradcam_dir: Path | None,
                  heatmap_names: set[str]) -> pd.DataFrame:
    predictions = predict_images(models, batch.images, settings)
    rows = prediction_rows(batch.paths, predictions, models.vote_columns)
    if gradcam_dir is not None:
        maps = gradcam(models.classifier.model, batch.images, predictions.classes)
        heatmaps = heatmap_paths(batch.paths, gradcam_dir, heatmap_names)
        for image, heat, path in zip(batch.images, maps, heatmaps):
            write_heatmap(image, heat, path)
        rows["gradcam"] = [str(path) for path in heatmaps]
    return rows
