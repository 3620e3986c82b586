"""A models folder loaded, and what it answers for model-ready images: the classifier (with its feature map
as an output), the captioner, the settings their records carry, and ``predict_images``, the one forward
pass that gzmorph predict, gzmorph evaluate, the API and the evaluate stage all run."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from typing import NamedTuple

import keras
import numpy as np

from gzmorph.data.decoding import check_geometry
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, predict_classes, with_features
from gzmorph.models.familiarity import Familiarity, load_familiarity, single_band
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, Trained
from gzmorph.models.folder import ModelsFolder
from gzmorph.models.forward import captions_from, pooled_features, predict_with_features
from gzmorph.models.precision import Precision, in_precision
from gzmorph.params import Params


@dataclass
class Models:
    folder: ModelsFolder  # where they were loaded from: each output names it
    classifier: Trained
    captioner: Trained | None  # None when captions are not wanted
    familiarity: Familiarity | None = None  # the training split's statistics; None where saved without them
    precision: Precision = "float32"  # the encoder's arithmetic when predicting (gzmorph.models.precision)

    @cached_property
    def predictor(self) -> keras.Model:
        """The classifier in ``precision`` with its feature map as an output, built once: a new Model per batch
        would retrace its predict function batch after batch."""
        return with_features(in_precision(self.classifier.model, self.precision))

    @property
    def crop(self) -> int:
        return self.classifier.record.crop

    @property
    def pixels(self) -> int:
        return self.classifier.record.pixels

    @property
    def vote_columns(self) -> list[str]:
        return self.classifier.record.learnt_columns

    @property
    def provenance(self) -> dict[str, str | None]:
        """Which models answered and what they learnt from, with a warning when that was the synthetic
        sample: what every output of ``gzmorph predict`` and ``gzmorph evaluate`` records."""
        record = self.classifier.record
        warning = (f"the models in {self.folder.name} learnt from the embedded synthetic sample and mean nothing for "
                   "real galaxies; leave out --models to use the released model, or train on real data "
                   "(dvc exp run -S data.raw_dir=...)") if record.synthetic else None
        return {"models": self.folder.name, "trained_on": record.trained_on, "precision": self.precision,
                "warning": warning}

    def settings(self, params: Params | None = None) -> Params:
        """``params`` (params.py's defaults when None) with what the folder says its models answer with: the
        crop and size of the images the classifier learnt from, the class rule and TTA its decision was tuned
        with, and the captioner's caption templates, beam width and length penalty."""
        params, classifier = params or Params(), self.classifier.record
        inference = replace(params.inference, tta=classifier.tta)
        update = {"clean_labels": replace(params.clean_labels, rule=classifier.rule), "inference": inference,
                  "image": replace(params.image, crop=classifier.crop, pixels=classifier.pixels)}
        if self.captioner:
            captioner = self.captioner.record
            update.update(build_captions=captioner.build_captions, inference=replace(
                inference, beam_width=captioner.beam_width, length_penalty=captioner.length_penalty))
        return params.model_copy(update=update)

    def answering(self, params: Params | None = None, crop: int | None = None) -> Params:
        """The settings a prediction runs with: ``params`` where given (a user's --params), else the folder's
        own (``settings``); the image geometry is always the folder's, as a params file's was made for another
        model, with ``crop`` in place of its crop where given (a differently framed cut-out)."""
        own = self.settings()
        if crop is not None:
            check_geometry(crop, self.pixels)
        image = own.image if crop is None else replace(own.image, crop=crop)
        return (params or own).model_copy(update={"image": image})


class Predictions(NamedTuple):
    classes: np.ndarray  # (n,) index into gzmorph.gz2.rule.CLASSES
    probabilities: np.ndarray  # (n, 5) the class head's softmax
    votes: np.ndarray  # (n, 37) all of gzmorph.gz2.tree.VOTE_COLUMNS
    captions: list[str] | None  # beam search's
    outputs: dict  # the forward pass's, the feature map included: scoring decodes them greedily too
    embeddings: np.ndarray | None = None  # (n, d) the pooled encoder features, when asked for
    single_band: np.ndarray | None = None  # (n,) bool: a grey picture, its three channels one
    familiarity: np.ndarray | None = None  # (n,) distance from the training galaxies; familiar up to 1


def load_models(folder: ModelsFolder, captions: bool = True, precision: Precision = "float32") -> Models:
    """The classifier and (when ``captions``) the captioner in ``folder``, as the pipeline saved them, to
    predict in ``precision``."""
    classifier = folder.load(ClassifierRecord)
    captioner = None
    if captions:
        with warnings.catch_warnings():
            # Keras warns that the subclassed decoder has no build_from_config; its weights still load
            # (a failure would raise), so the warning tells a user of this command nothing.
            warnings.filterwarnings("ignore", message=".*build_from_config.*")
            captioner = folder.load(CaptionerRecord)
    return Models(folder, classifier, captioner, load_familiarity(folder.familiarity), precision)


def predict_images(models: Models, images: np.ndarray, settings: Params, embeddings: bool = False) -> Predictions:
    """Predictions for model-ready images, (n, pixels, pixels, 3) uint8, with ``settings``' inference section
    and class rule, each image's familiarity where the folder has the statistics; with ``embeddings``, the
    pooled encoder features too."""
    inference = settings.inference
    outputs = predict_with_features(models.predictor, images, inference.tta)
    classes = predict_classes(outputs, models.classifier.record.decision, settings.clean_labels.rule)
    captions = (captions_from(models.captioner, outputs, inference.beam_width, inference.length_penalty, classes)
                if models.captioner else None)
    pooled = pooled_features(outputs)
    familiarity = models.familiarity.scores(images, pooled) if models.familiarity else None
    return Predictions(classes, outputs[CLASS_OUTPUT], outputs[VOTES_OUTPUT], captions, outputs,
                       pooled if embeddings else None, single_band(images), familiarity)
