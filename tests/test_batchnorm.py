"""BatchNorm's inference statistics measured afresh for the weights as they are (gzmorph.training.batchnorm)."""
import keras
import numpy as np
import pytest

from gzmorph.params import Augmentation, ClassifierParams
from gzmorph.training.batchnorm import refresh_batchnorm
from gzmorph.training.classifier import fit_classifier
from helpers import tiny_split


def conv_bn():
    images = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(4, 3, name="conv")(images)
    return keras.Model(images, keras.layers.BatchNormalization(momentum=0.9, name="bn")(features))


def test_the_statistics_become_the_mean_of_the_batch_statistics():
    model = conv_bn()
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 8, 3)).astype("float32")
    bn = model.get_layer("bn")
    bn.moving_mean.assign(np.full(4, 99.0)), bn.moving_variance.assign(np.full(4, 99.0))  # stale
    refresh_batchnorm(model, images, batch_size=16)  # batches of 16, 16 and 8
    conv = keras.Model(model.input, model.get_layer("conv").output)
    batches = [conv.predict_on_batch(images[s:s + 16]) for s in (0, 16, 32)]
    means = np.mean([b.mean(axis=(0, 1, 2)) for b in batches], axis=0)
    variances = np.mean([b.var(axis=(0, 1, 2)) for b in batches], axis=0)
    assert np.asarray(bn.moving_mean) == pytest.approx(means, rel=1e-4)
    assert np.asarray(bn.moving_variance) == pytest.approx(variances, rel=1e-3)
    assert bn.momentum == 0.9  # as it was, for any training that follows


@pytest.mark.slow
def test_the_kept_classifier_carries_the_statistics_of_its_own_weights(tmp_path):
    params = ClassifierParams(width=4, epochs=3, batch_size=16, learning_rate=0.01,
                              augment=Augmentation(shift=0.0, zoom=0.0))
    train = tiny_split(64, 0)
    model, _ = fit_classifier(train, tiny_split(16, 1), params, seed=0, curves=tmp_path / "curves")
    kept = [np.asarray(v).copy() for v in model.non_trainable_weights if "moving" in v.path]
    refresh_batchnorm(model, train.images, params.batch_size)
    again = [np.asarray(v) for v in model.non_trainable_weights if "moving" in v.path]
    assert len(kept) > 0 and all(np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(kept, again))
