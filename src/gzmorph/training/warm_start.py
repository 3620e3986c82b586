"""Fine-tuning: a new classifier starts from a trained one's weights (models/released, trained on real GZ2)
instead of random ones, as Zoobot's users start from its released models with a few hundred labels."""
from __future__ import annotations

from pathlib import Path

import keras

from gzmorph.errors import GzmorphError
from gzmorph.models.encoders import FEATURES
from gzmorph.models.files import ClassifierRecord
from gzmorph.models.folder import ModelsFolder


def start_from(model: keras.Model, models_dir: str, freeze_encoder: bool) -> None:
    """Copies the weights of ``models_dir``'s classifier into ``model``, which must have its shapes (the same
    backbone, width and image.pixels); ``freeze_encoder`` leaves only the heads to train."""
    trained = ModelsFolder(Path(models_dir)).load(ClassifierRecord)
    theirs, ours = trained.model.weights, model.weights
    if [w.shape for w in theirs] != [w.shape for w in ours]:
        raise GzmorphError(f"train_classifier.init: {models_dir}'s classifier takes {trained.record.pixels} px "
                           "images and has another shape; set image.pixels, train_classifier.backbone and width "
                           "to what it was trained with (its meta.json and model card say)")
    model.set_weights([w.numpy() for w in theirs])
    if freeze_encoder:
        for layer in encoder_layers(model):
            layer.trainable = False  # BatchNormalization then keeps the trained statistics too


def encoder_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers up to and including the feature map, in order: what the heads are built on."""
    names = [layer.name for layer in model.layers]
    return model.layers[:names.index(FEATURES) + 1]
