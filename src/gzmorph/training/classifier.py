"""Training the classifier: in-model augmentation, a cosine learning rate to zero, the class decision, curves."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.utils.class_weight import compute_sample_weight

from gzmorph.data.packed_splits import Split
from gzmorph.data.sources import ONE_SOURCE, Source, Taught, answers_taught, source_splits, sources_of, taught
from gzmorph.gz2.rule import CLASSES, Rule
from gzmorph.gz2.tree import VOTE_COLUMNS, answer_means
from gzmorph.models.classifier import (
    CLASS_OUTPUT,
    VOTES_OUTPUT,
    ClassDecision,
    build_classifier,
    compile_classifier,
    predict_classes,
    with_features,
)
from gzmorph.models.familiarity import Familiarity, fit_familiarity
from gzmorph.models.files import ClassifierRecord, Trained
from gzmorph.models.forward import pooled_features, predict_with_features, predict_with_tta
from gzmorph.params import ClassifierParams, Params
from gzmorph.paths import is_sample
from gzmorph.training.augment import training_augmentation
from gzmorph.training.batches import Batches
from gzmorph.training.batchnorm import RefreshBatchNorm
from gzmorph.training.curves import curves_logger
from gzmorph.training.distribute import backup_and_restore, batches_for, global_batch_size, make_strategy
from gzmorph.training.seeding import SeedEachEpoch, seed_everything
from gzmorph.training.warm_start import start_from


def targets(split: Split, sources: Sequence[Source]) -> dict:
    """The class and vote targets as ``sources`` teach them: with one source, its vote columns; with more,
    (products | answer shares | reach) side by side, for ``taught_votes_loss``."""
    if not answers_taught(sources):
        return {CLASS_OUTPUT: split.classes, VOTES_OUTPUT: split.votes}
    t = taught(split.table, split.votes, sources)
    return {CLASS_OUTPUT: split.classes, VOTES_OUTPUT: np.concatenate([t.products, t.answers, t.reach], axis=1)}


def sample_weights(split: Split, sources: Sequence[Source], balance: bool) -> dict:
    """The class loss of the main source's galaxies only (another catalogue's rule labels are on its scale),
    classes balanced among them if asked; the vote loss of every galaxy."""
    learnt = taught(split.table, split.votes, sources).classes
    weights = np.zeros(len(learnt), np.float32)
    weights[learnt] = class_sample_weights(split.classes[learnt], balance)
    return {CLASS_OUTPUT: weights, VOTES_OUTPUT: np.ones(len(learnt), np.float32)}


def class_sample_weights(classes: np.ndarray, balance: bool) -> np.ndarray:
    """Per-galaxy weights that give every class the same total weight (mergers are a few percent)."""
    if not balance:
        return np.ones(len(classes), np.float32)
    return compute_sample_weight("balanced", classes).astype(np.float32)


def train_classifier(train: Split, val: Split, params: Params, curves: Path) -> Trained:
    """The fitted classifier with the record it is saved with: the class decision chosen on ``val`` and the
    rule and TTA it was chosen with, the constant baseline, the images it takes and the data it learnt from."""
    sources = sources_of(params.data)
    model, _ = fit_classifier(train, val, params.train_classifier, params.seed, curves, sources)
    rule, tta = params.clean_labels.rule, params.inference.tta
    choice = choose_class_source(model, source_splits(val, sources)[sources[0].name], rule, tta)
    learnt = taught(train.table, train.votes, sources)
    return Trained(model, ClassifierRecord(
        choice.decision, choice.val_scores, column_means(learnt.products),
        pixels=model.input.shape[1], crop=params.image.crop,  # the packed arrays' size, which the split stage took
        trained_on=", ".join([params.data.raw_dir, *(s.raw_dir for s in params.data.more_sources)]),
        synthetic=is_sample(params.data.raw_dir), rule=rule, tta=tta, train_answer_means=answer_share_means(learnt),
        answered_columns=answered_columns(learnt)))


def familiarity_of(model: keras.Model, train: Split, val: Split) -> Familiarity:
    """What the training split looks like to ``model`` and in its pixels, the thresholds set on ``val``: what
    a prediction's familiarity is measured against (gzmorph.models.familiarity)."""
    predictor = with_features(model)
    train_features, val_features = (pooled_features(predict_with_features(predictor, split.images, tta=False))
                                    for split in (train, val))
    return fit_familiarity(train.images, train_features, val.images, val_features)


def with_augmentation(model: keras.Model, params: ClassifierParams, seed: int) -> keras.Model:
    a = params.augment
    images = model.input
    augmented = training_augmentation(a.rotate, a.flip, a.shift, a.zoom, seed)(images)
    return keras.Model(images, model(augmented), name="classifier_with_augmentation")


def fit_classifier(train: Split, val: Split, params: ClassifierParams, seed: int, curves: Path,
                   sources: Sequence[Source] = ONE_SOURCE):
    """Train on ``train`` for ``params.epochs`` and keep the last epoch's weights; ``val`` is scored each
    epoch for the curves only. Returns the (unaugmented) model and its history.

    No early stopping: on 200-odd validation galaxies the best epoch is chosen by noise, while the cosine
    schedule brings the rate to zero, where the weights settle. The last epoch is the stable choice, and a
    resumed run ends with the same weights as an uninterrupted one. BatchNorm's statistics are measured
    afresh for each validation and for the kept weights (``RefreshBatchNorm``): their lag made the
    validation loss jump from epoch to epoch.
    """
    strategy = make_strategy(params.strategy)  # first: multi-worker sets up its collectives before TF starts
    batch_size = global_batch_size(params.batch_size, strategy)  # params.batch_size is per replica
    seed_everything(seed)
    pixels = train.images.shape[1]  # the split stage's image.pixels
    weights = sample_weights(train, sources, params.balance_classes)
    batches = batches_for(params.strategy, train.images, targets(train, sources), batch_size, seed=seed,
                          weights=weights)
    with strategy.scope():  # the variables made here (weights, optimizer, metrics) live on every replica
        model = build_classifier(pixels, params.backbone, params.width, params.dropout, params.weights,
                                 params.precision)
        if params.init != "none":
            start_from(model, params.init, params.freeze_encoder)
        trainer = with_augmentation(model, params, seed)
        compile_classifier(trainer, cosine_schedule(params.learning_rate, params.epochs * len(batches)),
                           params.vote_loss_weight, params.ema_momentum, answers_taught(sources))
    backup = backup_and_restore(params.checkpoint_dir, strategy, params, seed, train.ids.tobytes(), val.ids.tobytes())
    history = trainer.fit(
        batches,
        validation_data=batches_for(params.strategy, val.images, targets(val, sources), batch_size,
                                    weights=sample_weights(val, sources, balance=False)),
        epochs=params.epochs,
        shuffle=False,  # the batches order themselves (SeedEachEpoch); Keras would reorder them by Python's random
        callbacks=[
            # The curves and their copy before the backup: a run stopped between them resumes at that epoch
            # and logs it again in place of the stopped run's row. The backup before the averaged weights
            # are swapped in, so a resumed run goes on from the weights it was training.
            *curves_logger(curves, Path(backup.backup_dir), first_epoch=epochs_done(backup)),
            backup,
            SeedEachEpoch(batches if isinstance(batches, Batches) else None),  # tf.data shuffles by itself
            *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if params.ema_momentum else []),
            RefreshBatchNorm(model, train.images, batch_size),
        ],
        verbose=2,
    )
    return model, history.history


def epochs_done(backup: keras.callbacks.BackupAndRestore) -> int:
    """The epochs a stopped run completed, from the backup it left (0 without one): where fit resumes."""
    state = Path(backup.backup_dir) / "training_metadata.json"
    return json.loads(state.read_text())["epoch"] if state.is_file() else 0


def cosine_schedule(learning_rate: float, steps: int):
    """Cosine decay to zero over the whole run: smooth, and independent of the noisy validation loss."""
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps, 1))


def selection_score(true: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy plus macro F1: the common classes and the rare ones (mergers, ambiguous) both count."""
    macro = f1_score(true, predicted, average="macro", labels=range(len(CLASSES)), zero_division=0)
    return float(np.mean(true == predicted) + macro)


def tuned_class_scale(probs: np.ndarray, true: np.ndarray, rounds: int = 3) -> list[float]:
    """Per-class multipliers of the softmax that maximise ``selection_score`` on validation.

    The softmax learns the training priors, under which a 3% class (mergers) is rarely the argmax;
    rescaling trades a little accuracy for recall on the rare classes, by coordinate ascent on a grid.
    """
    scale = np.ones(len(CLASSES))
    grid = np.exp(np.linspace(-1.5, 2.5, 41))
    for _ in range(rounds):
        for c in range(len(CLASSES)):
            trial = lambda g: np.where(np.arange(len(CLASSES)) == c, g, scale)  # noqa: E731, B023 (used at once)
            scale[c] = max(grid, key=lambda g: selection_score(true, (probs * trial(g)).argmax(axis=1)))
    return [round(float(x), 4) for x in scale]


class ClassSourceChoice(NamedTuple):
    decision: ClassDecision
    val_scores: dict[str, float]  # every candidate's validation accuracy + macro F1


def choose_class_source(model: keras.Model, val: Split, rule: Rule, tta: bool) -> ClassSourceChoice:
    """The way of naming the class that scores best on validation: plain softmax, rescaled softmax, or
    the label rule over the predicted votes (ambiguous means the volunteers split, which votes show)."""
    outputs = predict_with_tta(model, np.asarray(val.images), tta)
    ones = [1.0] * len(CLASSES)
    candidates = {
        "softmax": ClassDecision("softmax", ones, val.vote_columns),
        "softmax_rescaled": ClassDecision("softmax_rescaled", tuned_class_scale(outputs[CLASS_OUTPUT], val.classes),
                                          val.vote_columns),
        "votes": ClassDecision("votes", ones, val.vote_columns),
    }
    scores = {name: selection_score(val.classes, predict_classes(outputs, decision, rule))
              for name, decision in candidates.items()}
    best = max(scores, key=scores.get)
    return ClassSourceChoice(candidates[best], {name: round(score, 4) for name, score in scores.items()})


def column_means(votes: np.ndarray) -> list[float | None]:
    """The mean of each vote column over the galaxies that teach it (None where none does): the constant
    baseline of the vote columns."""
    means = pd.DataFrame(votes).mean()  # pandas skips NaN quietly
    return [None if np.isnan(m) else round(float(m), 6) for m in means]


def answered_columns(learnt: Taught) -> list[str]:
    """The vote columns some training galaxy teaches, as a product or as a share."""
    known = ~(np.isnan(learnt.products) & np.isnan(learnt.answers))
    return [column for column, any_known in zip(VOTE_COLUMNS, known.any(axis=0)) if any_known]


def answer_share_means(learnt: Taught) -> list[float | None]:
    """The constant baseline of the answer shares over the galaxies that teach them: the main source's from
    its products, the other sources' shares as products of a question reached by their reach."""
    return answer_means(np.where(np.isnan(learnt.products), learnt.answers * learnt.reach, learnt.products))
