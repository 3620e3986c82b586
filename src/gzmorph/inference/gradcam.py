"""Grad-CAM (Selvaraju et al. 2017): where in the image the encoder's features drove a class score."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from gzmorph.models.classifier import CLASS_OUTPUT
from gzmorph.models.encoders import FEATURES


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
