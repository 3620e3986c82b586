"""Training augmentation: galaxies have no preferred orientation, and their apparent size varies, so
the model sees random rotations, flips, shifts and zooms (Keras random layers, active only while
training). Evaluation averages over the 8 rotations and flips instead (gzmorph.models.forward).
"""
from __future__ import annotations

import keras
from keras import layers


def training_augmentation(rotate: bool, flip: bool, shift: float, zoom: float, seed: int) -> keras.Sequential:
    """Random rotation by any angle, flips, small shifts and scale jitter."""
    steps = []
    if flip:
        steps.append(layers.RandomFlip("horizontal_and_vertical", seed=seed))
    if rotate:
        steps.append(layers.RandomRotation(0.5, fill_mode="reflect", seed=seed + 1))
    if shift > 0:
        steps.append(layers.RandomTranslation(shift, shift, fill_mode="reflect", seed=seed + 2))
    if zoom > 0:
        steps.append(layers.RandomZoom(zoom, fill_mode="reflect", seed=seed + 3))
    # Identity when every step is off: Keras cannot build an empty Sequential.
    return keras.Sequential(steps or [layers.Identity()], name="augment")
