"""The five morphology classes, derived from GZ2 vote fractions by a documented threshold rule.

First match wins; a conditional fraction is a column over its question's total (see ``tree.conditional``):

1. merger      if Class6.1 >= merger_odd and Class8.6/Class6.1 >= merger_share
2. elliptical  if Class1.1 >= elliptical_smooth
3. edge-on     if Class1.2 >= disk_min and Class2.1/Class1.2 >= edge_on_share
4. spiral      if Class1.2 >= disk_min and Class2.2/Class1.2 >= face_on_share
               and, where question 4 is present, Class4.1/Class2.2 >= spiral_arms_share
5. ambiguous   otherwise (stars and artifacts included)

A table without questions 6 and 8 cannot name mergers, and one without question 4 skips the arms test;
the rule uses what is there (``missing_rule_questions`` says what was skipped, for the caller to warn).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import annotated_types
import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.gz2.tree import QUESTION_BY_NUMBER, conditional, present_questions

CLASSES: tuple[str, ...] = ("spiral", "elliptical", "edge-on", "merger", "ambiguous")
REQUIRED_QUESTIONS = (1, 2)
OPTIONAL_QUESTIONS = {6: "merger", 8: "merger", 4: "spiral arms test"}


Fraction = Annotated[float, annotated_types.Interval(ge=0.0, le=1.0)]


@dataclass(frozen=True)
class Rule:
    """The thresholds of the rule (the ``clean_labels.rule`` params); defaults are the published figures' rule."""

    merger_odd: Fraction = 0.4
    merger_share: Fraction = 0.5
    elliptical_smooth: Fraction = 0.6
    disk_min: Fraction = 0.5
    edge_on_share: Fraction = 0.6
    face_on_share: Fraction = 0.6
    spiral_arms_share: Fraction = 0.5


def missing_rule_questions(columns) -> dict[int, str]:
    """Optional questions absent from ``columns``, with what the rule skips without them."""
    have = {q.number for q in present_questions(columns)}
    missing = [n for n in REQUIRED_QUESTIONS if n not in have]
    if missing:
        needed = [c for n in missing for c in QUESTION_BY_NUMBER[n].columns]
        raise GzmorphError(f"the label rule needs columns {', '.join(needed)}; the table lacks some of them")
    return {n: what for n, what in OPTIONAL_QUESTIONS.items() if n not in have}


def classify(votes: pd.DataFrame, rule: Rule = Rule()) -> np.ndarray:
    """The class index (into CLASSES) of each row of a vote-fraction table."""
    skipped = missing_rule_questions(votes.columns)
    n = len(votes)
    smooth, disk = votes["Class1.1"].to_numpy(float), votes["Class1.2"].to_numpy(float)
    is_disk = disk >= rule.disk_min
    if 6 in skipped or 8 in skipped:
        merger = np.zeros(n, bool)
    else:
        merger = (votes["Class6.1"].to_numpy(float) >= rule.merger_odd) & (
            conditional(votes, "Class8.6").to_numpy() >= rule.merger_share)
    edge_on = is_disk & (conditional(votes, "Class2.1").to_numpy() >= rule.edge_on_share)
    spiral = is_disk & (conditional(votes, "Class2.2").to_numpy() >= rule.face_on_share)
    if 4 not in skipped:
        spiral &= conditional(votes, "Class4.1").to_numpy() >= rule.spiral_arms_share
    conditions = [merger, smooth >= rule.elliptical_smooth, edge_on, spiral]
    choices = [CLASSES.index(c) for c in ("merger", "elliptical", "edge-on", "spiral")]
    return np.select(conditions, choices, default=CLASSES.index("ambiguous")).astype(np.int64)
