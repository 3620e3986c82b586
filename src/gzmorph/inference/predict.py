"""Running the trained models on images: class, class probabilities, vote fractions and a caption, for
``gzmorph predict`` and the Python API (image files or arrays in, a table out) and for scoring
(gzmorph.inference.evaluation).

The evaluate stage, ``gzmorph evaluate``, ``gzmorph predict`` and the API all call ``predict_images``, with
the settings the models folder carries (``Models.settings``): with the same TTA setting a galaxy gets the
same answer in each, from any directory. ``gzmorph predict`` and the API skip TTA unless asked: eight views
cost eight forward passes, and on the real Kaggle test split they moved accuracy by under one point.
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import pandas as pd
from tqdm import tqdm

from gzmorph.data.decoding import galaxy_from_array
from gzmorph.data.files import DecodedFiles, decoded_batches
from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import as_sentence
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.inference.forward import encoded_from, generate_captions, predict_with_features
from gzmorph.inference.gradcam import gradcam
from gzmorph.inference.output import DECIMALS, PROBABILITY_PREFIX, heatmap_paths, write_heatmap
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, predict_classes, with_features
from gzmorph.models.encoders import FEATURES
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, Trained
from gzmorph.models.folder import ModelsFolder
from gzmorph.params import Params

EMBEDDING_PREFIX = "embedding_"


@dataclass
class Models:
    folder: ModelsFolder  # where they were loaded from: each output names it
    classifier: Trained
    captioner: Trained | None  # None when captions are not wanted

    @cached_property
    def predictor(self) -> keras.Model:
        """The classifier with its feature map as an output, built once: a new Model per batch would
        retrace its predict function batch after batch."""
        return with_features(self.classifier.model)

    @property
    def crop(self) -> int:
        return self.classifier.record.crop

    @property
    def pixels(self) -> int:
        return self.classifier.record.pixels

    @property
    def vote_columns(self) -> list[str]:
        return self.classifier.record.decision.vote_columns

    @property
    def provenance(self) -> dict[str, str | None]:
        """Which models answered and what they learnt from, with a warning when that was the synthetic
        sample: what every output of ``gzmorph predict`` and ``gzmorph evaluate`` records."""
        record = self.classifier.record
        warning = (f"the models in {self.folder.name} learnt from the embedded synthetic sample and mean nothing for "
                   "real galaxies; leave out --models to use the released model, or train on real data "
                   "(dvc exp run -S data.raw_dir=...)") if record.synthetic else None
        return {"models": self.folder.name, "trained_on": record.trained_on, "warning": warning}

    def settings(self, params: Params | None = None) -> Params:
        """``params`` (params.py's defaults when None) with what the folder says its models answer with: the
        class rule and TTA the classifier's decision was tuned with, and the captioner's caption templates,
        beam width and length penalty."""
        params, classifier = params or Params(), self.classifier.record
        inference = replace(params.inference, tta=classifier.tta)
        update = {"clean_labels": replace(params.clean_labels, rule=classifier.rule), "inference": inference}
        if self.captioner:
            captioner = self.captioner.record
            update.update(build_captions=captioner.build_captions, inference=replace(
                inference, beam_width=captioner.beam_width, length_penalty=captioner.length_penalty))
        return params.model_copy(update=update)


class Predictions(NamedTuple):
    classes: np.ndarray  # (n,) index into gzmorph.gz2.rule.CLASSES
    probabilities: np.ndarray  # (n, 5) the class head's softmax
    votes: np.ndarray  # (n, 37) all of gzmorph.gz2.tree.VOTE_COLUMNS
    captions: list[str] | None  # beam search's
    outputs: dict  # the forward pass's, the feature map included: scoring decodes them greedily too


def load_models(folder: ModelsFolder, captions: bool = True) -> Models:
    """The classifier and (when ``captions``) the captioner in ``folder``, as the pipeline saved them."""
    classifier = folder.load(ClassifierRecord)
    captioner = None
    if captions:
        with warnings.catch_warnings():
            # Keras warns that the subclassed decoder has no build_from_config; its weights still load
            # (a failure would raise), so the warning tells a user of this command nothing.
            warnings.filterwarnings("ignore", message=".*build_from_config.*")
            captioner = folder.load(CaptionerRecord)
    return Models(folder, classifier, captioner)


def predict_images(models: Models, images: np.ndarray, settings: Params) -> Predictions:
    """Predictions for model-ready images, (n, pixels, pixels, 3) uint8, with ``settings``' inference section
    and class rule."""
    inference = settings.inference
    outputs = predict_with_features(models.predictor, images, inference.tta)
    classes = predict_classes(outputs, models.classifier.record.decision, settings.clean_labels.rule)
    captions = (caption_outputs(models, outputs, inference.beam_width, inference.length_penalty)
                if models.captioner else None)
    return Predictions(classes, outputs[CLASS_OUTPUT], outputs[VOTES_OUTPUT], captions, outputs)


def caption_outputs(models: Models, outputs: dict, beam_width: int, length_penalty: float) -> list[str]:
    """Captions decoded from the forward pass's outputs: greedy when ``beam_width`` is 1, beam search otherwise."""
    record = models.captioner.record
    return generate_captions(models.captioner.model, encoded_from(outputs), record.vocab, record.max_len,
                             beam_width, length_penalty)


def predict_files(paths: list[Path], models: Models, settings: Params, batch_size: int,
                  gradcam_dir: Path | None = None, embeddings: bool = False) -> tuple[pd.DataFrame, list[str]]:
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
                tables.append(predict_batch(batch, models, settings, gradcam_dir, heatmap_names, embeddings))
            progress.update(len(batch.paths) + len(batch.problems))
    if not tables:
        raise GzmorphError(f"none of the {len(paths)} file(s) could be read as an image; see the lines above")
    return pd.concat(tables, ignore_index=True), problems


def predict_batch(batch: DecodedFiles, models: Models, settings: Params, gradcam_dir: Path | None,
                  heatmap_names: set[str], embeddings: bool) -> pd.DataFrame:
    predictions = predict_images(models, batch.images, settings)
    rows = prediction_rows(predictions, models.vote_columns, embeddings)
    rows.insert(0, "file", [str(p) for p in batch.paths])
    if gradcam_dir is not None:
        maps = gradcam(models.classifier.model, batch.images, predictions.classes)
        heatmaps = heatmap_paths(batch.paths, gradcam_dir, heatmap_names)
        for image, heat, path in zip(batch.images, maps, heatmaps):
            write_heatmap(image, heat, path)
        rows["gradcam"] = [str(path) for path in heatmaps]
    return rows


def predict_arrays(images: np.ndarray, models: Models, settings: Params, batch_size: int,
                   embeddings: bool = False) -> pd.DataFrame:
    """The prediction table of full cut-outs held in memory, (n, height, width, 3) or (n, height, width)
    uint8: each gets the crop and resize a file gets."""
    tables = []
    for start in tqdm(range(0, len(images), batch_size), desc="predicting", unit="batch", file=sys.stderr):
        batch = np.stack([galaxy_from_array(image, models.crop, models.pixels)
                          for image in images[start:start + batch_size]])
        tables.append(prediction_rows(predict_images(models, batch, settings), models.vote_columns, embeddings))
    return pd.concat(tables, ignore_index=True)


def prediction_rows(predictions: Predictions, vote_columns: list[str], embeddings: bool = False) -> pd.DataFrame:
    """One row per image: class, the five class probabilities, the vote fractions, the caption, and on
    request the embedding: the encoder's feature map averaged over its positions (the classifier's pooled
    features, which its heads read), for similarity search and clustering."""
    rows = pd.DataFrame({"class": np.asarray(CLASSES, dtype=object)[predictions.classes]})
    for i, name in enumerate(CLASSES):
        rows[PROBABILITY_PREFIX + name] = predictions.probabilities[:, i].round(DECIMALS)
    votes = pd.DataFrame(predictions.votes, columns=VOTE_COLUMNS)[vote_columns].round(DECIMALS)
    rows[vote_columns] = votes.to_numpy()
    if predictions.captions is not None:
        rows["caption"] = [as_sentence(caption) for caption in predictions.captions]
    if embeddings:
        pooled = predictions.outputs[FEATURES].astype(np.float32).mean(axis=(1, 2))
        columns = [f"{EMBEDDING_PREFIX}{i}" for i in range(pooled.shape[1])]
        rows = pd.concat([rows, pd.DataFrame(pooled, columns=columns)], axis=1)
    return rows
