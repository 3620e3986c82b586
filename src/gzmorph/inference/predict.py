"""Running the trained models on new images: class, class probabilities, vote fractions and a caption.

Everything here goes through the same functions as the evaluate stage (the class source chosen at
training time, the label rule, beam search), so with the same TTA setting a galaxy gets the same answer
here as in the metrics. ``gzmorph predict`` skips TTA unless asked (--tta): eight views cost eight
forward passes, and on the real Kaggle test split they moved accuracy by under one point.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from gzmorph.gz2.rule import Rule
from gzmorph.inference.captioning import encoded_from, generate_captions, predict_with_features
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, predict_classes, with_features
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, Trained, load_model
from gzmorph.params import Params
from gzmorph.paths import CAPTIONER, CLASSIFIER, MODELS


@dataclass
class Models:
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


@dataclass(frozen=True)
class Settings:
    """What params.yaml decides about prediction, read where the evaluate stage reads it."""

    tta: bool
    beam_width: int
    length_penalty: float
    rule: Rule


class Predictions(NamedTuple):
    classes: np.ndarray  # (n,) index into gzmorph.gz2.rule.CLASSES
    probabilities: np.ndarray  # (n, 5) the class head's softmax
    votes: np.ndarray  # (n, 37) all of gzmorph.gz2.tree.VOTE_COLUMNS
    captions: list[str] | None


def settings_from(params: Params) -> Settings:
    evaluate = params.evaluate
    return Settings(evaluate.tta, evaluate.beam_width, evaluate.length_penalty, params.clean_labels.rule)


def load_models(models_dir: Path = MODELS, captions: bool = True) -> Models:
    """The classifier and (when ``captions``) the captioner under ``models_dir``, as the pipeline saved them."""
    models_dir = Path(models_dir)
    classifier = load_model(models_dir / CLASSIFIER.relative_to(MODELS), ClassifierRecord)
    captioner = None
    if captions:
        with warnings.catch_warnings():
            # Keras warns that the subclassed decoder has no build_from_config; its weights still load
            # (a failure would raise), so the warning tells a user of this command nothing.
            warnings.filterwarnings("ignore", message=".*build_from_config.*")
            captioner = load_model(models_dir / CAPTIONER.relative_to(MODELS), CaptionerRecord)
    return Models(classifier, captioner)


def predict_images(models: Models, images: np.ndarray, settings: Settings) -> Predictions:
    """Predictions for a batch of model-ready images, (n, size, size, 3) uint8."""
    outputs = predict_with_features(models.predictor, images, settings.tta)
    classes = predict_classes(outputs, models.classifier.record.decision, settings.rule)
    captions = caption_images(models, outputs, settings) if models.captioner else None
    return Predictions(classes, outputs[CLASS_OUTPUT], outputs[VOTES_OUTPUT], captions)


def caption_images(models: Models, outputs: dict, settings: Settings) -> list[str]:
    """Beam-search captions from the predictor's outputs, as the evaluate stage makes them."""
    encoded = encoded_from(outputs)
    record = models.captioner.record
    return generate_captions(models.captioner.model, encoded, record.vocab, record.max_len,
                             settings.beam_width, settings.length_penalty)
