"""Grad-CAM (Selvaraju et al. 2017): where in the image the encoder's features drove a class score, as heat
maps, and those heat maps drawn over the images."""
from __future__ import annotations

from pathlib import Path

import keras
import matplotlib
import numpy as np
import tensorflow as tf
from PIL import Image

from gzmorph.models.classifier import CLASS_OUTPUT
from gzmorph.models.encoders import FEATURES

HEATMAP_ALPHA = 0.45
HEATMAP_SCALE = 4  # a 64 px model input is too small to see; nearest-neighbour keeps its pixels honest


def gradcam(model: keras.Model, images: np.ndarray, class_indices=None) -> np.ndarray:
    """Heat maps in [0, 1] of the images' size, one per image, for the given (default: predicted) classes."""
    probe = keras.Model(model.input, [model.get_layer(FEATURES).output, model.output[CLASS_OUTPUT]])
    batch = tf.convert_to_tensor(np.asarray(images))
    with tf.GradientTape() as tape:
        features, probs = probe(batch, training=False)
        if class_indices is None:
            class_indices = tf.argmax(probs, axis=1)
        score = tf.gather(probs, tf.convert_to_tensor(class_indices), axis=1, batch_dims=1)
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))[..., None]
    cam = tf.image.resize(cam, batch.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1)[:, None, None]
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


def draw_heatmaps(model: keras.Model, images: np.ndarray, classes: np.ndarray, files: list[Path], out_dir: Path,
                  taken: set[str]) -> list[str]:
    """A Grad-CAM PNG per image in ``out_dir``, named after its file (``taken``: the names already used)."""
    heatmaps = heatmap_paths(files, out_dir, taken)
    for image, heat, path in zip(images, gradcam(model, images, classes), heatmaps):
        write_heatmap(image, heat, path)
    return [str(path) for path in heatmaps]


def heatmap_paths(paths: list[Path], out_dir: Path, taken: set[str]) -> list[Path]:
    """``<stem>.png`` per image, numbered when two inputs share a stem (a.jpg and a.png, or two folders)."""
    named = []
    for path in paths:
        name, copy = f"{path.stem}.png", 1
        while name in taken:
            copy += 1
            name = f"{path.stem}-{copy}.png"
        taken.add(name)
        named.append(Path(out_dir) / name)
    return named


def write_heatmap(image: np.ndarray, heat: np.ndarray, path: Path) -> None:
    """The model's view of the galaxy (cropped and resized) with the [0, 1] heat map blended over it."""
    picture = Image.fromarray(heatmap_overlay(image, heat))
    side = image.shape[0] * HEATMAP_SCALE
    picture.resize((side, side), Image.Resampling.NEAREST).save(path)


def heatmap_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """uint8 RGB: ``image`` with the [0, 1] heat map, in jet colours, blended over it."""
    colours = matplotlib.colormaps["jet"](heat)[..., :3]
    blended = (1 - HEATMAP_ALPHA) * image / 255.0 + HEATMAP_ALPHA * colours
    return np.round(blended * 255).astype(np.uint8)
