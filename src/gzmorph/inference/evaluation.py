"""Scoring the trained models on labelled galaxies: the test split (the evaluate stage) or any folder in
Kaggle's layout (``gzmorph evaluate --data``), through the same prediction as ``gzmorph predict``.

A folder goes through the pipeline's own steps (clean_labels' rules, the split stage's packing and table),
so the pipeline's test split, laid out as a folder, scores exactly what metrics/classifier.json and
metrics/captioner.json say.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from gzmorph.data.caption_files import references_for
from gzmorph.data.files import kaggle_layout
from gzmorph.data.labels import clean_labels, read_table, report_lines
from gzmorph.data.packed_splits import Split, load_split
from gzmorph.data.splitting import image_files, pack_split
from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import CaptionConfig, as_sentence, stated_features, table_captions
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.inference.metrics import (
    CLASS_INDICES,
    Figures,
    bleu_counts,
    bleu_from_counts,
    bleu_scores,
    bootstrap_intervals,
    class_agreement,
    classification_metrics,
    feature_agreement,
    fine_feature_shares,
    headline_classification,
    variety,
    vote_rmse,
)
from gzmorph.inference.questions import question_metrics
from gzmorph.models.forward import captions_from
from gzmorph.models.loaded import Models, Predictions, predict_images
from gzmorph.params import Params

SPLIT_NAME = "test"  # a folder is packed, then read back as the evaluate stage reads its split

Report = Callable[[str], None]


class Bootstrap(NamedTuple):
    resamples: int  # of the scored galaxies, for the headline figures' 95 % intervals
    seed: int


class Scores(NamedTuple):
    classifier: dict
    captioner: dict
    predicted: np.ndarray  # class index per galaxy
    generated: dict  # captions by decoder and baseline


def score_models(models: Models, split: Split, references: dict[str, list[str]], params: Params) -> Scores:
    """The evaluate stage's metrics for ``split``, with ``params``' settings (``Models.settings``: the folder's)."""
    bootstrap = Bootstrap(params.evaluate.bootstrap, params.seed)
    predictions = predict_images(models, split.images, params)
    record = models.classifier.record
    clf_metrics = score_classifier(predictions, split, record.train_vote_means, bootstrap, record.train_answer_means)
    cap_metrics, generated = score_captioner(models, predictions, split, references, params.build_captions,
                                             bootstrap)
    return Scores(clf_metrics, cap_metrics, predictions.classes, generated)


def score_classifier(predictions: Predictions, split: Split, train_vote_means: list[float | None],
                     bootstrap: Bootstrap, train_answer_means: list[float | None] | None = None) -> dict:
    """Classification and vote metrics of ``predictions`` on ``split``; ``ci95`` holds the headline figures'
    intervals, ``questions`` each question's (gzmorph.inference.questions). The constant baseline predicts
    the training split's mean votes and answer shares, kept in the model's record so that any labelled folder
    can be scored the same way."""
    predicted, votes, true_votes = predictions.classes, predictions.votes, split.votes
    metrics = classification_metrics(split.classes, predicted)
    means = np.array(train_vote_means, dtype=float)  # NaN: a column training lacked
    constant = np.broadcast_to(np.nan_to_num(means), true_votes.shape)
    classes = metrics.pop("classes")  # after the headline figures, the vote errors among them
    metrics.update(vote_rmse=round(vote_rmse(votes, true_votes), 4),
                   vote_rmse_constant=round(vote_rmse(constant, true_votes), 4))

    def headline(rows):
        return {**headline_classification(split.classes[rows], predicted[rows]),
                "vote_rmse": vote_rmse(votes[rows], true_votes[rows])}

    metrics.update(ci95=bootstrap_intervals(headline, len(predicted), *bootstrap), classes=classes)
    metrics["questions"] = question_metrics(votes, true_votes, train_vote_means,
                                            train_answer_means or [None] * len(VOTE_COLUMNS), *bootstrap)
    return metrics


def score_captions(captions: list[str], references: list[list[str]], true_classes, predicted_classes,
                   reference_features) -> dict:
    """``class_agreement``: the caption's class is the true class; ``implies_row_class``: it is the class the
    row itself names (the predicted one), which a reader of one row checks the caption against."""
    scores = {**bleu_scores(references, captions), **variety(captions), **fine_feature_shares(captions),
              "class_agreement": class_agreement(captions, true_classes),
              "implies_row_class": class_agreement(captions, predicted_classes)}
    scores = {k: round(float(v), 4) for k, v in scores.items()}
    scores["features"] = {k: round(float(v), 4) for k, v in feature_agreement(captions, reference_features).items()}
    return scores


# The beam search's captions are what `gzmorph predict` writes: their headline figures lead the file.
HEADLINE_CAPTION_SCORES = ("bleu1", "bleu2", "bleu3", "bleu4", "class_agreement", "implies_row_class", "top3_share")


def beam_headline(captions: list[str], references: list[list[str]], true_classes: np.ndarray,
                  predicted_classes: np.ndarray) -> Figures:
    """The beam's BLEU, class agreement and share naming the row's class of any resample of the galaxies
    (their rows), for the intervals. Not top3_share: a resample repeats galaxies, and so captions, which
    inflates the share of the commonest three, so its bootstrap interval would not be one."""
    counts = bleu_counts(references, captions)
    implied_right = np.array([class_agreement([c], [t]) for c, t in zip(captions, true_classes)])
    implies_row = np.array([class_agreement([c], [p]) for c, p in zip(captions, predicted_classes)])

    def scores(rows):
        return {**bleu_from_counts(counts[rows].sum(axis=0)), "class_agreement": implied_right[rows].mean(),
                "implies_row_class": implies_row[rows].mean()}
    return scores


def score_captioner(models: Models, predictions: Predictions, split: Split, references: dict[str, list[str]],
                    templates: CaptionConfig, bootstrap: Bootstrap):
    """BLEU, variety and correctness of the beam captions (``predictions``) and greedy ones, next to two
    baselines: the training split's most frequent caption for every galaxy, and the templates applied to
    the predicted votes.

    The beam's headline figures at the top; the rest of the beam's, greedy decoding's, the baselines'
    and the references' variety nested under their names."""
    refs = [references[str(g)] for g in split.ids]
    votes = split.table[split.vote_columns]
    ref_features = [stated_features(row, templates) for _, row in votes.iterrows()]
    generated = {
        "greedy": captions_from(models.captioner, predictions.outputs, 1, 0.0, predictions.classes),
        "beam": predictions.captions,
        "most_frequent": [models.captioner.record.most_frequent_caption] * len(refs),
        "templates": [c[0] for c in table_captions(
            pd.DataFrame(predictions.votes, columns=VOTE_COLUMNS)[list(votes.columns)], predictions.classes,
            templates)],
    }
    scores = {name: score_captions(captions, refs, split.classes, predictions.classes, ref_features)
              for name, captions in generated.items()}
    beam = scores["beam"]
    metrics = {
        **{k: beam.pop(k) for k in HEADLINE_CAPTION_SCORES},
        "ci95": bootstrap_intervals(beam_headline(generated["beam"], refs, split.classes, predictions.classes),
                                    len(refs), *bootstrap),
        "beam": beam,
        "greedy": scores["greedy"],
        "baselines": {"most_frequent": scores["most_frequent"], "templates": scores["templates"]},
        "references": {k: round(float(v), 4) for k, v in {**variety([r[0] for r in refs]),
                                                             **fine_feature_shares([r[0] for r in refs])}.items()},
    }
    return metrics, generated


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


def evaluate_folder(data_dir: Path, models: Models, params: Params, report: Report = print) -> dict:
    """{"classifier": metrics, "captioner": metrics} for the labelled galaxies in ``data_dir``."""
    image_dir, table_file = kaggle_layout(Path(data_dir), params.data.images, params.data.solutions)
    labels = clean_folder_labels(table_file, image_dir, params, report)
    with tempfile.TemporaryDirectory(prefix="gzmorph-evaluate-") as work_dir:
        split = pack_folder(labels, image_dir, Path(work_dir), models, params.split.workers, report)
        references = references_for(split.table, params.build_captions)
        scores = score_models(models, split, references, params)
    return {"classifier": scores.classifier, "captioner": scores.captioner}


def clean_folder_labels(table_file: Path, image_dir: Path, params: Params, report: Report):
    """The clean_labels stage's table, its warnings and accounting of dropped rows reported."""
    rules = params.clean_labels
    result = clean_labels(read_table(table_file), image_dir, rules.rule, rules.sum_tolerance)
    for line in report_lines(result):  # the same lines as the clean_labels stage prints
        report(line)
    return result.labels


def pack_folder(labels, image_dir: Path, work_dir: Path, models: Models, workers: int, report: Report) -> Split:
    """The folder packed as the split stage packs a split, then read back by load_split."""
    files = image_files(labels, image_dir)
    _, packed = pack_split(labels, files, work_dir, SPLIT_NAME, models.crop, models.pixels, workers)
    for _, problem in packed.problems:
        report(f"dropped: {problem}")
    if not packed.usable.any():
        raise GzmorphError(f"{image_dir}: none of the {len(labels)} labelled images could be read")
    return load_split(work_dir, SPLIT_NAME)
