"""Image encoders: each maps a uint8 image batch to a spatial feature map, the layer named FEATURES.

The classifier pools that map for its heads, the captioner attends over it, Grad-CAM differentiates
through it, so every backbone must end in a layer of that name.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keras
from keras import layers

from gzmorph.errors import GzmorphError

FEATURES = "encoder_features"
# Small data makes BatchNorm's default momentum (0.99) lag the weights badly; 0.9 avoids a collapse
# to one class seen at a few thousand images.
BN_MOMENTUM = 0.9


def conv_block(x, filters: int, name: str, pool: bool = True):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    if pool:
        x = layers.MaxPooling2D(name=f"{name}_pool")(x)
    return x


def small_cnn(images, width: int):
    """A VGG-like stack, Dieleman et al. (2015) in spirit: 3 poolings, so a 64 px image gives an 8x8 map."""
    x = layers.Rescaling(1 / 255.0, name="rescale")(images)
    for i, factor in enumerate((1, 2, 4)):
        x = conv_block(x, width * factor, name=f"block{i + 1}")
    x = layers.Conv2D(width * 8, 3, padding="same", use_bias=False, name="block4_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="block4_bn")(x)
    return layers.ReLU(name=FEATURES, dtype="float32")(x)


def resnet50(images, weights: str):
    """Keras' ResNet50; ``weights`` is none, imagenet (needs the internet) or a local weights file."""
    if weights not in ("none", "imagenet") and not Path(weights).is_file():
        raise GzmorphError(f"train_classifier.weights: no such file {weights!r}; give none, imagenet or a path")
    x = keras.applications.resnet50.preprocess_input(keras.ops.cast(images, "float32"))
    shape = tuple(images.shape[1:])
    try:
        base = keras.applications.ResNet50(include_top=False, input_shape=shape,
                                           weights="imagenet" if weights == "imagenet" else None)
        if weights not in ("none", "imagenet"):
            base.load_weights(weights)
    # Keras' download raises a bare Exception when offline; a wrong file raises OSError or ValueError.
    except Exception as error:  # noqa: BLE001
        raise GzmorphError(f"train_classifier.weights: cannot load {weights!r} ({str(error).splitlines()[0]}); "
                           "give none or a local ResNet50 no-top weights file") from None
    return layers.Identity(name=FEATURES, dtype="float32")(base(x))


@contextmanager
def precision_policy(precision: str) -> Iterator[None]:
    """Layers made inside compute in ``precision`` (float32, or mixed_bfloat16: bfloat16 maths, float32
    weights), and keep it when saved and loaded."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def encoder_features(images, backbone: str, width: int, weights: str):
    """The FEATURES map of ``images``, float32 whatever precision the encoder computes in."""
    if backbone == "small_cnn":
        return small_cnn(images, width)
    if backbone == "resnet50":
        return resnet50(images, weights)
    raise GzmorphError(f"train_classifier.backbone: unknown {backbone!r}; use small_cnn or resnet50")
