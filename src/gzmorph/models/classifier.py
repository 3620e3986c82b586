"""The classifier: one encoder, two heads (the five classes, and the 37 GZ2 vote fractions)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import keras
import numpy as np
import pandas as pd
from keras import layers, ops

from gzmorph.gz2.rule import CLASSES, Rule, classify
from gzmorph.gz2.tree import QUESTIONS, VOTE_COLUMNS, question_of
from gzmorph.models.encoders import FEATURES, encoder_features, precision_policy

CLASS_OUTPUT, VOTES_OUTPUT = "class", "votes"


@keras.saving.register_keras_serializable(package="gzmorph")
class TreeVotes(layers.Layer):
    """Turns 37 logits into vote fractions that obey the decision tree, as the Kaggle winner's model did.

    A softmax per question gives the conditional answers; multiplying by the parent answer's fraction
    gives Kaggle's cumulative columns, so every predicted table satisfies the tree's sums.
    """

    def call(self, logits):
        columns = {}
        # QUESTIONS lists every parent's question before its children's.
        for question in QUESTIONS:
            index = [VOTE_COLUMNS.index(c) for c in question.columns]
            share = ops.softmax(ops.take(logits, index, axis=-1), axis=-1)
            total = 1.0 if question.parent is None else columns[question.parent]
            for j, column in enumerate(question.columns):
                columns[column] = share[..., j:j + 1] * total
        return ops.concatenate([columns[c] for c in VOTE_COLUMNS], axis=-1)



@keras.saving.register_keras_serializable(package="gzmorph")
def masked_mse(y_true, y_pred):
    """MSE over the vote columns the table has: absent columns arrive as NaN and never touch the loss."""
    known = ops.logical_not(ops.isnan(y_true))
    error = ops.where(known, y_true - y_pred, 0.0)
    count = ops.maximum(ops.sum(ops.cast(known, y_pred.dtype), axis=-1), 1.0)
    return ops.sum(ops.square(error), axis=-1) / count


# 1 where two vote columns answer the same question: votes @ SAME_QUESTION gives each column its question's sum.
SAME_QUESTION = np.array([[float(question_of(a) == question_of(b)) for b in VOTE_COLUMNS] for a in VOTE_COLUMNS],
                         np.float32)


@keras.saving.register_keras_serializable(package="gzmorph")
def taught_votes_loss(y_true, y_pred):
    """``masked_mse`` over the product columns, plus each taught answer share's squared error weighted by its
    question's reach, over the number of known terms. ``y_true`` is (products | answers | reach) side by side
    (gzmorph.data.sources.Taught), NaN where not taught.

    A predicted share is a column over its question's predicted sum, which is the question's own softmax: its
    gradient never reaches the parent columns, so another catalogue's scale stays out of them."""
    n = len(VOTE_COLUMNS)
    products, answers, reach = y_true[:, :n], y_true[:, n:2 * n], y_true[:, 2 * n:]
    totals = ops.matmul(y_pred, ops.convert_to_tensor(SAME_QUESTION, dtype=y_pred.dtype))
    shares = y_pred / ops.maximum(totals, 1e-7)
    known_products, known_answers = ops.logical_not(ops.isnan(products)), ops.logical_not(ops.isnan(answers))
    product_error = ops.where(known_products, products - y_pred, 0.0)
    answer_error = ops.where(known_answers, answers - shares, 0.0)
    weight = ops.where(known_answers, reach, 0.0)
    count = ops.sum(ops.cast(known_products, y_pred.dtype), axis=-1) + ops.sum(
        ops.cast(known_answers, y_pred.dtype), axis=-1)
    squares = ops.sum(ops.square(product_error), axis=-1) + ops.sum(weight * ops.square(answer_error), axis=-1)
    return squares / ops.maximum(count, 1.0)


def build_classifier(pixels: int, backbone: str, width: int, dropout: float, weights: str,
                     precision: str) -> keras.Model:
    """``precision`` applies to the encoder, where the time goes; the heads stay float32, so the
    probabilities and vote fractions (and their losses) keep full precision."""
    images = keras.Input((pixels, pixels, 3), name="image")
    with precision_policy(precision):
        features = encoder_features(images, backbone, width, weights)
    pooled = layers.GlobalAveragePooling2D(name="pool")(features)
    pooled = layers.Dropout(dropout, name="dropout")(pooled)
    hidden = layers.Dense(128, activation="relu", name="hidden")(pooled)
    class_probs = layers.Dense(len(CLASSES), activation="softmax", name=CLASS_OUTPUT)(hidden)
    votes = TreeVotes(name=VOTES_OUTPUT)(layers.Dense(len(VOTE_COLUMNS), name="vote_logits")(hidden))
    return keras.Model(images, {CLASS_OUTPUT: class_probs, VOTES_OUTPUT: votes}, name="classifier")


def compile_classifier(model: keras.Model, learning_rate, vote_loss_weight: float, ema_momentum: float,
                       answers: bool = False) -> None:
    """``ema_momentum`` above 0 makes the optimizer keep an exponential moving average of the weights,
    which ``fit`` writes into the model at the end (see ``gzmorph.training.classifier.fit_classifier``).
    ``answers``: the vote targets carry other sources' answer shares (``taught_votes_loss``)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, use_ema=ema_momentum > 0, ema_momentum=ema_momentum),
        loss={CLASS_OUTPUT: "sparse_categorical_crossentropy",
              VOTES_OUTPUT: taught_votes_loss if answers else masked_mse},
        loss_weights={CLASS_OUTPUT: 1.0, VOTES_OUTPUT: vote_loss_weight},
        metrics={CLASS_OUTPUT: "accuracy"},
    )


def with_features(model: keras.Model) -> keras.Model:
    """The classifier with its feature map as a third output (named FEATURES): what the captioner needs
    comes out of the same forward pass as the classes and votes, not from a second one."""
    return keras.Model(model.input, {**model.output, FEATURES: model.get_layer(FEATURES).output},
                       name="classifier_with_features")


@dataclass(frozen=True)
class ClassDecision:
    """How the class is named from the two heads, chosen on validation when the model was trained."""

    class_from: Literal["softmax", "softmax_rescaled", "votes"]  # chosen on validation
    class_scale: list[float]  # per-class multipliers of the softmax (all 1 unless tuned)
    vote_columns: list[str]  # the vote columns the training table had, which the rule may use


def predict_classes(outputs: dict, decision: ClassDecision, rule: Rule) -> np.ndarray:
    """Class indices as ``decision`` (from ``choose_class_source``, kept in the model's metadata) says:
    the softmax head with per-class scales, or the label rule over the predicted votes."""
    if decision.class_from == "votes":
        votes = pd.DataFrame(outputs[VOTES_OUTPUT], columns=VOTE_COLUMNS)[decision.vote_columns]
        return classify(votes, rule)
    return (outputs[CLASS_OUTPUT] * np.asarray(decision.class_scale)).argmax(axis=1)
