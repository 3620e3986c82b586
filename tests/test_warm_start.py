"""Fine-tuning: train_classifier.init starts the classifier from a saved one's weights, freeze_encoder keeps
its encoder as it was."""
import numpy as np
import pytest

from gzmorph.errors import GzmorphError
from gzmorph.models.classifier import build_classifier
from gzmorph.models.encoders import FEATURES
from gzmorph.models.files import Trained
from gzmorph.models.folder import ModelsFolder
from gzmorph.params import Augmentation, ClassifierParams
from gzmorph.training.classifier import fit_classifier
from gzmorph.training.warm_start import encoder_layers
from helpers import classifier_record, tiny_split

TINY = {"width": 4, "epochs": 2, "batch_size": 16, "augment": Augmentation(shift=0.0, zoom=0.0)}


def saved_classifier(folder, size=16, width=4):
    """A randomly initialised classifier saved as the pipeline saves one, under ``folder``/classifier."""
    model = build_classifier(size, "small_cnn", width, 0.0, "none", "float32")
    record = classifier_record(pixels=size, trained_on="elsewhere", synthetic=False)
    ModelsFolder(folder).save(Trained(model, record))
    return model


def weights_by_layer(model, layers):
    return {layer.name: [w.numpy().copy() for w in layer.weights] for layer in layers}


def same(a, b) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(x, y) for k in a for x, y in zip(a[k], b[k]))


@pytest.mark.slow
def test_a_fine_tuned_classifier_starts_from_the_saved_weights_and_can_keep_its_encoder(tmp_path):
    released = saved_classifier(tmp_path / "released")
    train, val = tiny_split(32, 0), tiny_split(16, 1)
    encoder = weights_by_layer(released, encoder_layers(released))

    frozen, _ = fit_classifier(train, val, ClassifierParams(**TINY, init=str(tmp_path / "released"),
                                                            freeze_encoder=True), 0, tmp_path / "a")
    assert same(weights_by_layer(frozen, encoder_layers(frozen)), encoder)
    assert not same(weights_by_layer(frozen, [frozen.get_layer("class")]),
                    weights_by_layer(released, [released.get_layer("class")]))

    tuned, _ = fit_classifier(train, val, ClassifierParams(**TINY, init=str(tmp_path / "released")), 0, tmp_path / "b")
    scratch, _ = fit_classifier(train, val, ClassifierParams(**TINY), 0, tmp_path / "c")
    # Two epochs at this learning rate move the weights by much less than they differ between initialisations.
    first = "block1_conv1"
    assert (np.abs(tuned.get_layer(first).weights[0] - released.get_layer(first).weights[0]).mean()
            < np.abs(scratch.get_layer(first).weights[0] - released.get_layer(first).weights[0]).mean() / 3)


def test_the_encoder_is_every_layer_up_to_the_feature_map():
    model = build_classifier(16, "small_cnn", 4, 0.0, "none", "float32")
    names = [layer.name for layer in encoder_layers(model)]
    assert names[-1] == FEATURES and "block1_conv1" in names and "class" not in names and "pool" not in names


def test_a_classifier_of_another_shape_is_one_line_naming_the_params(tmp_path):
    saved_classifier(tmp_path / "released", size=16, width=8)
    with pytest.raises(GzmorphError, match="image.pixels, train_classifier.backbone and width"):
        fit_classifier(tiny_split(16, 0), tiny_split(16, 1), ClassifierParams(**TINY, init=str(tmp_path / "released")),
                       0, tmp_path / "a")
