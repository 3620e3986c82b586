"""Training the classifier: class-balanced weights, in-model augmentation, early stopping, curves."""
from __future__ import annotations

from pathlib import Path
import keras
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.utils.class_weight import compute_sample_weight

from gzmorph.augment import predict_with_tta, training_augmentation
from gzmorph.classifier import CLASS_OUTPUT, VOTES_OUTPUT, build_classifier, compile_classifier
from gzmorph.batches import Batches
from gzmorph.datasets import Split
from gzmorph.params import ClassifierParams
from gzmorph.rule import CLASSES, Rule, classify
from gzmorph.tree import VOTE_COLUMNS

def targets(split: Split) -> dict:
    return {CLASS_OUTPUT: split.classes, VOTES_OUTPUT: split.votes}


def class_sample_weights(classes: np.ndarray, balance: bool) -> np.ndarray:
    """Per-galaxy weights that give every class the same total weight (mergers are a few percent)."""
    if not balance:
        return np.ones(len(classes), np.float32)
    return compute_sample_weight("balanced", classes).astype(np.float32)


def with_augmentation(model: keras.Model, params: ClassifierParams, seed: int) -> keras.Model:
    a = params.augment
    images = model.input
    augmented = training_augmentation(a.rotate, a.flip, a.shift, a.zoom, seed)(images)
    return keras.Model(images, model(augmented), name="classifier_with_augmentation")


def fit_classifier(train: Split, val: Split, params: ClassifierParams, seed: int, curves_file: Path):
    """Train on ``train``, stop early on ``val`` loss; returns the (unaugmented) model and its history."""
    keras.utils.set_random_seed(seed)
    size = train.images.shape[1]
    model = build_classifier(size, params.backbone, params.width, params.dropout, params.weights)
    weights = {CLASS_OUTPUT: class_sample_weights(train.classes, params.balance_classes),
               VOTES_OUTPUT: np.ones(len(train.classes), np.float32)}
    batches = Batches(train.images, targets(train), params.batch_size, seed=seed, weights=weights)
    trainer = with_augmentation(model, params, seed)
    compile_classifier(trainer, cosine_schedule(params.learning_rate, params.epochs * len(batches)),
                       params.vote_loss_weight)
    curves_file.parent.mkdir(parents=True, exist_ok=True)
    history = trainer.fit(
        batches,
        validation_data=Batches(val.images, targets(val), params.batch_size),
        epochs=params.epochs,
        callbacks=[
            keras.callbacks.EarlyStopping(patience=params.patience, restore_best_weights=True),
            keras.callbacks.CSVLogger(str(curves_file)),
        ],
        verbose=2,
    )
    return model, history.history


def cosine_schedule(learning_rate: float, steps: int):
    """Cosine decay to zero over the whole run: smooth, and independent of the noisy validation loss."""
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps, 1))


def predict_classes(outputs: dict, class_from: str, rule: Rule, vote_columns: list[str]) -> np.ndarray:
    """Class indices from the softmax head, or from the predicted votes through the label rule."""
    if class_from == "softmax":
        return outputs[CLASS_OUTPUT].argmax(axis=1)
    votes = pd.DataFrame(outputs[VOTES_OUTPUT], columns=VOTE_COLUMNS)[vote_columns]
    return classify(votes, rule)


def choose_class_source(model: keras.Model, val: Split, rule: Rule, vote_columns: list[str], tta: bool) -> dict:
    """Which way of naming the class scores the higher macro F1 on validation (ambiguous is the hard one)."""
    outputs = predict_with_tta(model, np.asarray(val.images), tta)
    scores = {source: float(f1_score(val.classes, predict_classes(outputs, source, rule, vote_columns),
                                     average="macro", labels=range(len(CLASSES))))
              for source in ("softmax", "votes")}
    return {"class_from": max(scores, key=scores.get), **{f"val_macro_f1_{k}": v for k, v in scores.items()}}


def train_vote_means(train: Split) -> list[float | None]:
    """The training split's mean of each vote column (None where the table lacks it): the constant baseline."""
    means = pd.DataFrame(train.votes).mean()  # pandas skips NaN quietly
    return [None if np.isnan(m) else round(float(m), 6) for m in means]
