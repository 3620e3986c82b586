"""Scoring the trained models on a labelled split: classification, vote fractions and captions."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from gzmorph.data.packed_splits import Split
from gzmorph.gz2.captions import CaptionConfig, as_sentence, stated_features, table_captions
from gzmorph.gz2.rule import CLASSES, Rule
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.inference.caption_metrics import (
    bleu_counts,
    bleu_from_counts,
    bleu_scores,
    class_agreement,
    feature_agreement,
    variety,
)
from gzmorph.inference.captioning import encoded_from, generate_captions, predict_with_features
from gzmorph.inference.intervals import Figures, bootstrap_intervals
from gzmorph.models.classifier import VOTES_OUTPUT, predict_classes, with_features
from gzmorph.models.files import Trained
from gzmorph.params import Params

CLASS_INDICES = list(range(len(CLASSES)))


class Bootstrap(NamedTuple):
    resamples: int  # of the scored galaxies, for the headline figures' 95 % intervals
    seed: int


def headline_classification(true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": accuracy_score(true, predicted),
        "f1_weighted": f1_score(true, predicted, average="weighted", labels=CLASS_INDICES, zero_division=0),
        "f1_macro": f1_score(true, predicted, average="macro", labels=CLASS_INDICES, zero_division=0),
    }


def classification_metrics(true: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, weighted and macro F1 at the top, and under ``classes`` each class's precision, recall, F1
    and support: `dvc exp show` lists the top-level figures first and the nested ones as dotted keys."""
    metrics = headline_classification(true, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=CLASS_INDICES,
                                                                     zero_division=0)
    metrics = {k: round(float(v), 4) for k, v in metrics.items()}
    metrics["classes"] = {name: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                                 "f1": round(float(f1[i]), 4), "support": int(support[i])}
                          for i, name in enumerate(CLASSES)}
    return metrics


def vote_rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    """RMSE over the vote columns the table has (NaN in ``true`` marks an absent one), as Kaggle scored it."""
    known = ~np.isnan(true)
    return float(np.sqrt(np.mean((predicted[known] - true[known]) ** 2)))


def score_classifier(classifier: Trained, split: Split, rule: Rule, tta: bool, bootstrap: Bootstrap):
    """Metrics and per-galaxy predictions (class index; outputs: class probabilities, votes and the
    feature map the captioner needs) on ``split``.

    The constant baseline predicts the training split's mean votes, kept in the model's record so
    that any labelled folder can be scored the same way. ``ci95`` holds the headline figures' intervals.
    """
    outputs = predict_with_features(with_features(classifier.model), split.images, tta)
    predicted = predict_classes(outputs, classifier.record.decision, rule)
    metrics = classification_metrics(split.classes, predicted)
    true_votes = split.votes
    means = np.array(classifier.record.train_vote_means, dtype=float)  # NaN: a column training lacked
    constant = np.broadcast_to(np.nan_to_num(means), true_votes.shape)
    classes = metrics.pop("classes")  # after the headline figures, the vote errors among them
    metrics.update(vote_rmse=round(vote_rmse(outputs[VOTES_OUTPUT], true_votes), 4),
                   vote_rmse_constant=round(vote_rmse(constant, true_votes), 4))

    def headline(rows):
        return {**headline_classification(split.classes[rows], predicted[rows]),
                "vote_rmse": vote_rmse(outputs[VOTES_OUTPUT][rows], true_votes[rows])}

    metrics.update(ci95=bootstrap_intervals(headline, len(predicted), *bootstrap), classes=classes)
    return metrics, predicted, outputs


def score_captions(captions: list[str], references: list[list[str]], true_classes, reference_features) -> dict:
    scores = {**bleu_scores(references, captions), **variety(captions),
              "class_agreement": class_agreement(captions, true_classes)}
    scores = {k: round(float(v), 4) for k, v in scores.items()}
    scores["features"] = {k: round(float(v), 4) for k, v in feature_agreement(captions, reference_features).items()}
    return scores


# The beam search's captions are what `gzmorph predict` writes: their headline figures lead the file.
HEADLINE_CAPTION_SCORES = ("bleu1", "bleu2", "bleu3", "bleu4", "class_agreement", "top3_share")


def beam_headline(captions: list[str], references: list[list[str]], true_classes: np.ndarray) -> Figures:
    """The beam's BLEU and class agreement of any resample of the galaxies (their rows), for the intervals.
    Not top3_share: a resample repeats galaxies, and so captions, which inflates the share of the commonest
    three, so its bootstrap interval would not be one."""
    counts = bleu_counts(references, captions)
    implied_right = np.array([class_agreement([c], [t]) for c, t in zip(captions, true_classes)])

    def scores(rows):
        return {**bleu_from_counts(counts[rows].sum(axis=0)), "class_agreement": implied_right[rows].mean()}
    return scores


def score_captioner(classifier: Trained, captioner: Trained, split: Split,
                    references: dict[str, list[str]], templates: CaptionConfig, outputs: dict,
                    predicted_classes: np.ndarray, beam_width: int, length_penalty: float, bootstrap: Bootstrap):
    """BLEU, variety and correctness of greedy and beam captions, next to two baselines: the training
    split's most frequent caption for every galaxy, and the templates applied to the predicted votes.

    The beam's headline figures at the top; the rest of the beam's, greedy decoding's, the baselines'
    and the references' variety nested under their names."""
    refs = [references[str(g)] for g in split.ids]
    votes = split.table[split.vote_columns]
    ref_features = [stated_features(row, templates) for _, row in votes.iterrows()]
    encoded = encoded_from(outputs)
    vocab, max_len = captioner.record.vocab, captioner.record.max_len
    generated = {
        "greedy": generate_captions(captioner.model, encoded, vocab, max_len, beam_width=1, length_penalty=0.0),
        "beam": generate_captions(captioner.model, encoded, vocab, max_len, beam_width, length_penalty),
        "most_frequent": [captioner.record.most_frequent_caption] * len(refs),
        "templates": [c[0] for c in table_captions(
            pd.DataFrame(outputs[VOTES_OUTPUT], columns=VOTE_COLUMNS)[list(votes.columns)], predicted_classes,
            templates)],
    }
    scores = {name: score_captions(captions, refs, split.classes, ref_features) for name, captions in generated.items()}
    beam = scores["beam"]
    metrics = {
        **{k: beam.pop(k) for k in HEADLINE_CAPTION_SCORES},
        "ci95": bootstrap_intervals(beam_headline(generated["beam"], refs, split.classes), len(refs), *bootstrap),
        "beam": beam,
        "greedy": scores["greedy"],
        "baselines": {"most_frequent": scores["most_frequent"], "templates": scores["templates"]},
        "references": {k: round(float(v), 4) for k, v in variety([r[0] for r in refs]).items()},
    }
    return metrics, generated


class Scores(NamedTuple):
    classifier: dict
    captioner: dict
    predicted: np.ndarray  # class index per galaxy
    generated: dict  # captions by decoder and baseline


def score_models(classifier: Trained, captioner: Trained, split: Split, references: dict[str, list[str]],
                 params: Params) -> Scores:
    """The evaluate stage's metrics for ``split``, with its settings from params.yaml."""
    settings = params.evaluate
    bootstrap = Bootstrap(settings.bootstrap, params.seed)
    clf_metrics, predicted, outputs = score_classifier(classifier, split, params.clean_labels.rule, settings.tta,
                                                       bootstrap)
    cap_metrics, generated = score_captioner(classifier, captioner, split, references, params.build_captions,
                                             outputs, predicted, settings.beam_width, settings.length_penalty,
                                             bootstrap)
    return Scores(clf_metrics, cap_metrics, predicted, generated)


def example_rows(classes: np.ndarray, per_class: int) -> np.ndarray:
    """The first ``per_class`` galaxies of each true class (split order): a fixed, readable sample."""
    return np.array([row for c in CLASS_INDICES for row in np.flatnonzero(classes == c)[:per_class]], dtype=np.int64)


def examples_table(split: Split, rows, predicted, references, generated) -> pd.DataFrame:
    return pd.DataFrame({
        "GalaxyID": split.ids[rows],
        "true_class": [CLASSES[c] for c in split.classes[rows]],
        "predicted_class": [CLASSES[c] for c in predicted[rows]],
        "reference": [as_sentence(references[str(g)][0]) for g in split.ids[rows]],
        "greedy": [as_sentence(generated["greedy"][r]) for r in rows],
        "beam": [as_sentence(generated["beam"][r]) for r in rows],
    })
