import json
import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from gzmorph.gz2.tree import VOTE_COLUMNS, sum_errors
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, TreeVotes, build_classifier, masked_mse
from gzmorph.models.forward import dihedral_views, predict_with_tta
from gzmorph.params import Augmentation, ClassifierParams
from gzmorph.training.augment import training_augmentation
from gzmorph.training.classifier import fit_classifier
from gzmorph.training.seeding import seed_everything
from helpers import logged, tiny_split


def test_tree_votes_obey_every_sum_of_the_decision_tree():
    logits = np.random.default_rng(0).normal(size=(50, len(VOTE_COLUMNS))).astype("float32") * 3
    votes = pd.DataFrame(np.asarray(TreeVotes()(logits)), columns=VOTE_COLUMNS)
    assert sum_errors(votes).to_numpy().max() < 1e-5
    assert ((votes >= 0) & (votes <= 1)).all().all()


def test_a_masked_vote_column_never_affects_the_loss_or_its_gradient():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    pred = tf.Variable(rng.random((4, 37)).astype("float32"))
    target = rng.random((4, 37)).astype("float32")
    target[:, 5] = np.nan
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(masked_mse(target, pred))
    grad = tape.gradient(loss, pred).numpy()
    assert np.isfinite(loss.numpy()) and np.all(grad[:, 5] == 0) and np.all(grad[:, :5] != 0)
    other = target.copy()
    other[:, 5] = np.nan
    known = ~np.isnan(target)
    expected = np.mean([np.mean((target[i][known[i]] - pred.numpy()[i][known[i]]) ** 2) for i in range(4)])
    assert float(np.mean(masked_mse(other, pred))) == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_the_two_heads_train_on_a_tiny_set(tmp_path):
    params = ClassifierParams(width=4, epochs=12, batch_size=16, learning_rate=0.01,
                              augment=Augmentation(shift=0.0, zoom=0.0))
    train, val = tiny_split(96, 0), tiny_split(32, 1)
    model, history = fit_classifier(train, val, params, seed=0, curves=tmp_path / "curves")
    assert history["votes_loss"][-1] < history["votes_loss"][0]
    outputs = model.predict(val.images, verbose=0)
    assert outputs[CLASS_OUTPUT].shape == (32, 5) and outputs[VOTES_OUTPUT].shape == (32, 37)
    assert (outputs[CLASS_OUTPUT].argmax(1) == val.classes).mean() >= 0.9


@pytest.mark.slow
def test_dvclive_logs_every_epoch_of_both_heads_and_their_validation_twins(tmp_path):
    params = ClassifierParams(width=4, epochs=3, batch_size=16, augment=Augmentation(shift=0.0, zoom=0.0))
    _, history = fit_classifier(tiny_split(48, 0), tiny_split(16, 1), params, seed=0, curves=tmp_path / "curves")
    for metric in ("loss", "class_loss", "votes_loss", "class_accuracy"):
        for split, key in (("train", metric), ("eval", f"val_{metric}")):
            curve = logged(tmp_path / "curves", split, metric)
            assert curve["step"].tolist() == [0, 1, 2]  # the epoch
            assert curve[metric].tolist() == pytest.approx(history[key], rel=1e-6)
    summary = json.loads((tmp_path / "curves" / "metrics.json").read_text())  # what `dvc exp show` reads
    assert summary["step"] == 2 and summary["eval"]["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)


# Trains, saves and reloads a bfloat16 encoder in argv[1], on the tiny splits saved there (train.npz, val.npz).
# Run on TensorFlow's Eigen kernels: oneDNN's bfloat16 convolution exists only on some CPUs (held to AVX2,
# oneDNN refuses it), and the test is about the model's dtypes, not the kernels.
BFLOAT16 = """
import sys
from pathlib import Path
import keras, numpy as np, pandas as pd
from gzmorph.data.packed_splits import Split
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, with_features
from gzmorph.models.encoders import FEATURES
from gzmorph.params import Augmentation, ClassifierParams
from gzmorph.training.classifier import fit_classifier
tmp_path = Path(sys.argv[1])
def saved(name):
    arrays = np.load(tmp_path / f"{name}.npz")
    return Split(arrays["images"], pd.DataFrame({c: arrays[c] for c in arrays.files if c != "images"}))
params = ClassifierParams(width=4, epochs=12, batch_size=16, learning_rate=0.01,
                          augment=Augmentation(shift=0.0, zoom=0.0), precision="mixed_bfloat16")
train, val = saved("train"), saved("val")
model, _ = fit_classifier(train, val, params, seed=0, curves=tmp_path / "curves")
model.save(tmp_path / "model.keras")
reloaded = keras.models.load_model(tmp_path / "model.keras", compile=False)
assert reloaded.get_layer("block1_conv1").dtype_policy.name == "mixed_bfloat16"
outputs = with_features(reloaded).predict(val.images, verbose=0)
assert {name: value.dtype for name, value in outputs.items()} == {
    CLASS_OUTPUT: np.float32, VOTES_OUTPUT: np.float32, FEATURES: np.float32}
assert (outputs[CLASS_OUTPUT].argmax(1) == val.classes).mean() >= 0.9
np.testing.assert_allclose(outputs[CLASS_OUTPUT].sum(axis=1), 1.0, atol=1e-5)
assert keras.config.dtype_policy().name == "float32"  # what the next model built gets
"""


@pytest.mark.slow
def test_a_bfloat16_encoder_trains_saves_and_reloads_with_float32_outputs(tmp_path):
    for name, split in (("train", tiny_split(96, 0)), ("val", tiny_split(32, 1))):
        columns = {column: np.asarray(values.tolist()) for column, values in split.table.items()}  # no pickles
        np.savez(tmp_path / f"{name}.npz", images=split.images, **columns)
    done = subprocess.run([sys.executable, "-c", BFLOAT16, str(tmp_path)],
                          env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_tta_of_a_model_invariant_by_construction_changes_nothing():
    # Per-pixel layers then a global mean: the same output for every rotation and flip.
    images = keras.Input((8, 8, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Dense(4, activation="relu")(images))
    model = keras.Model(images, {"class": keras.layers.Dense(5, activation="softmax")(pooled)})
    batch = np.random.default_rng(2).integers(0, 255, (6, 8, 8, 3)).astype("float32")
    plain = model.predict(batch, verbose=0)["class"]
    assert np.allclose(predict_with_tta(model, batch, tta=True)["class"], plain, atol=1e-6)


def test_dihedral_views_are_the_eight_distinct_symmetries():
    image = np.arange(16).reshape(1, 4, 4, 1)
    views = {v.tobytes() for v in dihedral_views(image)}
    assert len(views) == 8


def test_resnet50_backbone_builds_without_downloading():
    model = build_classifier(32, "resnet50", 32, 0.3, "none", "float32")
    assert model.output[CLASS_OUTPUT].shape[-1] == 5


def test_rescaling_the_softmax_recovers_a_rare_class_the_priors_hide():
    from gzmorph.models.classifier import ClassDecision, predict_classes
    from gzmorph.training.classifier import selection_score, tuned_class_scale

    rng = np.random.default_rng(3)
    true = np.where(rng.random(400) < 0.1, 3, 0)  # 10% mergers among spirals
    probs = np.full((400, 5), 0.01)
    # The model ranks mergers right but never above 0.5: plain argmax names no merger.
    probs[:, 3] = np.where(true == 3, 0.4, 0.1) + rng.normal(0, 0.03, 400)
    probs[:, 0] = 1 - probs[:, 3] - 0.03
    plain = predict_classes({"class": probs}, ClassDecision("softmax", [1.0] * 5, []), None)
    assert not (plain == 3).any()
    scale = tuned_class_scale(probs, true)
    rescaled = predict_classes({"class": probs}, ClassDecision("softmax_rescaled", scale, []), None)
    assert selection_score(true, rescaled) > selection_score(true, plain)
    assert (rescaled == true).mean() > 0.95
    assert (rescaled[true == 3] == 3).mean() > 0.9


def test_unloadable_resnet50_weights_are_one_clear_error(tmp_path):
    from gzmorph.errors import GzmorphError

    bad = tmp_path / "weights.h5"
    bad.write_text("not weights")
    with pytest.raises(GzmorphError, match="train_classifier.weights"):
        build_classifier(32, "resnet50", 32, 0.3, str(bad), "float32")


@pytest.mark.slow
def test_the_same_seed_trains_the_same_weights(tmp_path):
    params = ClassifierParams(width=4, epochs=2, batch_size=16, augment=Augmentation(shift=0.05, zoom=0.1))
    train, val = tiny_split(64, 0), tiny_split(16, 1)
    first, _ = fit_classifier(train, val, params, seed=5, curves=tmp_path / "a")
    second, _ = fit_classifier(train, val, params, seed=5, curves=tmp_path / "b")
    for a, b in zip(first.get_weights(), second.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_weight_averaging_keeps_the_average_not_the_last_weights(tmp_path):
    # Momentum this close to 1 holds the average at the weights after the first step, so the model returned
    # stays near its initial weights while the same training without averaging moves away from them.
    train, val = tiny_split(64, 0), tiny_split(16, 1)
    settings = dict(width=4, epochs=6, batch_size=16, learning_rate=0.01, augment=Augmentation(shift=0.0, zoom=0.0))
    seed_everything(3)
    initial = build_classifier(16, "small_cnn", 4, 0.3, "none", ClassifierParams().precision).trainable_weights
    averaged, _ = fit_classifier(train, val, ClassifierParams(**settings, ema_momentum=0.999999), seed=3,
                                 curves=tmp_path / "a")
    trained, _ = fit_classifier(train, val, ClassifierParams(**settings), seed=3, curves=tmp_path / "b")

    def moved(model):
        return np.sqrt(sum(np.sum((np.asarray(w) - np.asarray(w0)) ** 2)
                           for w, w0 in zip(model.trainable_weights, initial)))
    assert moved(averaged) < 0.5 * moved(trained)


def test_augmentation_with_every_step_off_passes_images_through():
    images = np.arange(2 * 8 * 8 * 3, dtype="float32").reshape(2, 8, 8, 3)
    augment = training_augmentation(rotate=False, flip=False, shift=0.0, zoom=0.0, seed=0)
    assert np.array_equal(np.asarray(augment(images, training=True)), images)
