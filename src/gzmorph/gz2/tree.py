"""The Galaxy Zoo 2 decision tree as the Kaggle table encodes it.

Each Kaggle column ``ClassQ.A`` is the fraction of volunteers who reached question Q and gave answer A,
so the answers of a question sum to the column of the answer that led there (its ``parent``), or to 1
for the questions every volunteer sees (Willett et al. 2013; Kaggle's decision-tree page).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Question:
    number: int
    topic: str
    answers: tuple[str, ...]
    parent: str | None  # the column whose value this question's answers sum to; None means 1

    @property
    def columns(self) -> list[str]:
        return [f"Class{self.number}.{i + 1}" for i in range(len(self.answers))]


QUESTIONS: tuple[Question, ...] = (
    Question(1, "smooth or features", ("smooth", "features or disk", "star or artifact"), None),
    Question(2, "edge-on", ("yes", "no"), "Class1.2"),
    Question(3, "bar", ("yes", "no"), "Class2.2"),
    Question(4, "spiral arms", ("yes", "no"), "Class2.2"),
    Question(5, "bulge prominence", ("no bulge", "just noticeable", "obvious", "dominant"), "Class2.2"),
    Question(6, "anything odd", ("yes", "no"), None),
    Question(7, "roundness", ("completely round", "in between", "cigar-shaped"), "Class1.1"),
    Question(8, "odd feature", ("ring", "lens or arc", "disturbed", "irregular", "other", "merger", "dust lane"),
             "Class6.1"),
    Question(9, "edge-on bulge shape", ("rounded", "boxy", "no bulge"), "Class2.1"),
    Question(10, "arm winding", ("tight", "medium", "loose"), "Class4.1"),
    Question(11, "arm count", ("1", "2", "3", "4", "more than four", "can't tell"), "Class4.1"),
)

VOTE_COLUMNS: list[str] = [c for q in QUESTIONS for c in q.columns]
QUESTION_BY_NUMBER: dict[int, Question] = {q.number: q for q in QUESTIONS}
ID_COLUMN = "GalaxyID"
# Answer shares count where at least this share of volunteers reached the question: a share of a handful of
# votes is noise (the per-question figures and their constant baseline).
REACH_MIN = 0.3


def question_of(column: str) -> Question:
    return QUESTION_BY_NUMBER[int(column[len("Class"):].split(".")[0])]


def present_questions(columns) -> list[Question]:
    """Questions whose answer columns are all in ``columns`` (a real table may lack whole questions)."""
    have = set(columns)
    return [q for q in QUESTIONS if set(q.columns) <= have]


def question_total(votes: pd.DataFrame, question: Question) -> pd.Series:
    """The fraction of volunteers who reached ``question``: its parent column, or 1."""
    if question.parent is None:
        return pd.Series(1.0, index=votes.index)
    return votes[question.parent]


def conditional(votes: pd.DataFrame, column: str) -> pd.Series:
    """The share of a question's answers that chose ``column``; 0 where nobody reached the question."""
    total = question_total(votes, question_of(column)).to_numpy(dtype=float)
    value = votes[column].to_numpy(dtype=float)
    out = np.divide(value, total, out=np.zeros_like(value), where=total > 0)
    return pd.Series(out, index=votes.index, name=column)


def sum_errors(votes: pd.DataFrame) -> pd.DataFrame:
    """Per row and present question, |sum of answers - the question's total|."""
    errors = {}
    for q in present_questions(votes.columns):
        if q.parent is not None and q.parent not in votes.columns:
            continue
        errors[f"Q{q.number}"] = (votes[q.columns].sum(axis=1) - question_total(votes, q)).abs()
    return pd.DataFrame(errors, index=votes.index)


def answers_and_reach(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(answers, reach), each shaped like ``votes`` (rows by VOTE_COLUMNS): under each question's columns,
    the share of its answers that chose each (0 where nobody reached it) and the fraction of volunteers who
    reached it, both NaN in a row missing any of its columns.

    The reach is the sum of the question's own columns rather than its parent column, so a table lacking
    the parent (a catalogue asking only about bars) still gives shares, and a table already in conditional
    form gives itself back with reach 1.
    """
    answers, reach = np.full(votes.shape, np.nan), np.full(votes.shape, np.nan)
    for q in QUESTIONS:
        span = slice(VOTE_COLUMNS.index(q.columns[0]), VOTE_COLUMNS.index(q.columns[-1]) + 1)
        columns = votes[:, span].astype(float)
        total = columns.sum(axis=1, keepdims=True)  # NaN wherever one of the columns is
        shares = np.divide(columns, total, out=np.zeros_like(columns), where=total > 0)
        answers[:, span] = np.where(np.isnan(total), np.nan, shares)
        reach[:, span] = total
    return answers, reach


def completed(votes: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """``votes`` (rows by VOTE_COLUMNS, NaN where a table lacks a column) with each question a row lacks
    filled in from ``predicted``'s shares of its answers, times the row's own (or filled) parent column; and
    per row, the numbers of the questions filled, so that what came from a model can be told apart. A question
    ``predicted`` leaves NaN (one the model never learnt) stays unknown.

    Shares rather than ``predicted``'s columns, so the row's own answers higher up the tree keep their say:
    a galaxy its volunteers found smooth gets no bar, whatever the model thought of its disk."""
    filled = votes.astype(float).copy()
    shares, _ = answers_and_reach(predicted)
    questions: list[list[int]] = [[] for _ in range(len(votes))]
    for question in QUESTIONS:  # parents before children
        span = [VOTE_COLUMNS.index(c) for c in question.columns]
        lacking = np.isnan(filled[:, span]).all(axis=1) & ~np.isnan(shares[:, span]).any(axis=1)
        parent = 1.0 if question.parent is None else filled[:, VOTE_COLUMNS.index(question.parent)][:, None]
        filled[np.ix_(lacking, span)] = (shares[:, span] * parent)[lacking]
        for row in np.flatnonzero(lacking):
            questions[row].append(question.number)
    return filled, questions


def answer_means(votes: np.ndarray, reach_min: float = REACH_MIN) -> list[float | None]:
    """Per vote column, the mean conditional share over the galaxies that know its question and reached it
    by at least ``reach_min`` (None where none did): the share baseline, kept in the model's record."""
    answers, reach = answers_and_reach(votes)
    counted = reach >= reach_min
    return [round(float(answers[counted[:, c], c].mean()), 6) if counted[:, c].any() else None
            for c in range(len(VOTE_COLUMNS))]
