import keras
import numpy as np
import pytest

from gzmorph.inference.gradcam import gradcam
from gzmorph.models.classifier import build_classifier, compile_classifier
from helpers import galaxy_images

SIZE = 32


def blob_images(n, rng):
    """Faint noise; half the images also hold one bright blob somewhere (class 0), half none (class 1)."""
    sky = rng.integers(0, 40, (n, SIZE, SIZE, 3))
    has_blob = np.arange(n) % 2 == 0
    centres = rng.integers(6, SIZE - 6, (n, 2))
    # Squared radius 11.5: the integer distances below 12, a blob of 37 pixels.
    images, masks = galaxy_images(np.where(has_blob, np.sqrt(11.5), 0), SIZE, sky=sky, centres=centres)
    return images, np.where(has_blob, 0, 1), masks


@pytest.mark.slow
def test_gradcam_highlights_the_one_bright_blob():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images, classes, _ = blob_images(256, rng)
    model = build_classifier(SIZE, "small_cnn", 8, 0.0, "none", "float32")
    compile_classifier(model, 0.003, vote_loss_weight=0.0, ema_momentum=0.0)
    votes = np.full((len(images), 37), np.nan, "float32")
    model.fit(images, {"class": classes, "votes": votes}, epochs=8, batch_size=32, verbose=0)

    test_images, _, masks = blob_images(8, np.random.default_rng(1))
    heat = gradcam(model, test_images[::2], [0] * 4)
    assert heat.shape == (4, SIZE, SIZE) and heat.min() >= 0 and heat.max() <= 1
    # The 4x4 feature map of a 32 px image makes a coarse map: ask for the peak on the blob and a clear
    # contrast, not a sharp outline.
    for one, blob in zip(heat, masks[::2]):
        assert blob[np.unravel_index(one.argmax(), one.shape)]
        assert one[blob].mean() > 1.5 * one[~blob].mean()
