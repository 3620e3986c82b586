"""Per-question figures for the eleven GZ2 questions, each next to a constant baseline, with 95 % intervals.

A product column (Kaggle's ClassQ.A) is a question's conditional answer times the fraction of volunteers who
reached the question, so its error mixes how well the answer is predicted with how well the parent is: a
model unsure whether a galaxy has features is scored for it again on every column below, and a catalogue's
scale moves them all (the Hart et al. 2016 catalogue gives the same pixels a smooth fraction about 0.2 higher
than Kaggle's, so every product under Q1 shifts with it). The conditional share of a question that many
volunteers reached carries neither scale: it says whether the model answers the question as the volunteers
who saw it did, comparably across catalogues and down the tree, where products are small whatever the
answer. Galaxies reached by few volunteers (under ``reach_min``) are left out of the share figures, their
shares being a handful of votes.

The product figures stay beside them: they are what Kaggle scored and what the classifier's loss sees.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from gzmorph.gz2.tree import QUESTIONS, REACH_MIN, VOTE_COLUMNS, Question, answers_and_reach
from gzmorph.inference.metrics import Figures, bootstrap_intervals

YES_NO = (2, 3, 4, 6)  # two answers each: the majority is the yes or no a catalogue would record

PerRow = dict[str, tuple[np.ndarray, Callable[[float], float]]]  # figure -> per-row values, mean -> figure


class Pair(NamedTuple):
    predicted: np.ndarray
    true: np.ndarray


def question_key(question: Question) -> str:
    """``q3_bar``, ``q11_arm_count``: snake case like the metrics files' other keys, numbered as in the tree."""
    return f"q{question.number}_" + question.topic.replace(" ", "_").replace("-", "_")


def column_indices(question: Question) -> list[int]:
    return [VOTE_COLUMNS.index(c) for c in question.columns]


def constants_of(values: Sequence[float | None], columns: list[int]) -> np.ndarray | None:
    """The question's constants, or None where training lacked one (None, or NaN once read into an array)."""
    picked = [values[c] for c in columns]
    if any(v is None or np.isnan(v) for v in picked):
        return None
    return np.array(picked, dtype=float)


def squared_errors(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per row, the mean squared error over the question's columns: every row has them all, so the root of
    a resample's mean of these is its RMSE."""
    return ((predicted - true) ** 2).mean(axis=1)


def majority_hits(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per row, 1 where the predicted shares' majority answer is the volunteers' (a tie goes to the first)."""
    return (np.argmax(predicted, axis=-1) == np.argmax(true, axis=1)).astype(float)


def rmse(mean_square: float) -> float:
    return float(np.sqrt(mean_square))


def product_rows(products: Pair, constant: np.ndarray | None) -> PerRow:
    rows = {"columns_rmse": (squared_errors(*products), rmse)}
    if constant is not None:
        rows["columns_rmse_constant"] = (squared_errors(constant, products.true), rmse)
    return rows


def answer_rows(question: Question, answers: Pair, constant: np.ndarray | None) -> PerRow:
    rows = {"answers_rmse": (squared_errors(*answers), rmse)}
    if constant is not None:
        rows["answers_rmse_constant"] = (squared_errors(constant, answers.true), rmse)
    if question.number in YES_NO:
        rows["majority_accuracy"] = (majority_hits(*answers), float)
        if constant is not None:
            rows["majority_accuracy_constant"] = (majority_hits(constant, answers.true), float)
    return rows


def figures_of(per_row: PerRow) -> Figures:
    """The figures of any resample of the rows (their indices): one gather and mean each."""
    def scores(rows):
        return {name: finish(values[rows].mean()) for name, (values, finish) in per_row.items()}
    return scores


def intervals(per_row: PerRow, resamples: int, seed: int) -> dict[str, dict[str, float]]:
    """Every figure's interval, the constant's too: on a few dozen galaxies reaching a question, whether the
    model beats the constant is read from both (the same resamples for both, so they move together)."""
    count = len(next(iter(per_row.values()))[0])
    return bootstrap_intervals(figures_of(per_row), count, resamples, seed)


def question_figures(question: Question, products: Pair, answers: Pair, column_constant: np.ndarray | None,
                     answer_constant: np.ndarray | None, resamples: int, seed: int) -> dict:
    """Products over the rows that know ``question``, shares over those that reached it (given as ``answers``);
    no share figures where none did."""
    known = product_rows(products, column_constant)
    figures = {"galaxies": len(products.true), **figures_of(known)(slice(None)), "reached": len(answers.true)}
    ci95 = intervals(known, resamples, seed)
    if len(answers.true):
        reached = answer_rows(question, answers, answer_constant)
        figures.update(figures_of(reached)(slice(None)))
        ci95.update(intervals(reached, resamples, seed))
    return {**{k: v if isinstance(v, int) else round(v, 4) for k, v in figures.items()}, "ci95": ci95}


def question_metrics(predicted: np.ndarray, true: np.ndarray, column_constant: Sequence[float | None],
                     answer_constant: Sequence[float | None], resamples: int, seed: int,
                     reach_min: float = REACH_MIN) -> dict:
    """{question key: figures} for each question some row of ``true`` knows (NaN marks an unknown column).

    ``predicted`` are the model's product columns, ``true`` the table's; the constants are per column the
    training split's mean products and mean shares (``gz2.tree.answer_means``), None where training lacked a column,
    which drops the baseline figure it would give.
    """
    if predicted.shape != true.shape:
        raise ValueError(f"{predicted.shape} predicted votes against {true.shape} true ones")
    predicted_answers, _ = answers_and_reach(predicted)
    true_answers, true_reach = answers_and_reach(true)
    metrics = {}
    for question in QUESTIONS:
        columns = column_indices(question)
        known = ~np.isnan(true[:, columns]).any(axis=1)
        if not known.any():
            continue
        reached = known & (true_reach[:, columns[0]] >= reach_min)
        metrics[question_key(question)] = question_figures(
            question, Pair(predicted[known][:, columns], true[known][:, columns]),
            Pair(predicted_answers[reached][:, columns], true_answers[reached][:, columns]),
            constants_of(column_constant, columns), constants_of(answer_constant, columns), resamples, seed)
    return metrics
