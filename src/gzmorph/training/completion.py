"""The classifier's answers to the questions a training galaxy's catalogue lacks, for its reference captions.

The Kaggle subset asks nothing about bars, arms or bulges; another source (hart16) teaches the classifier
those questions. A captioner trained on references that never mention them would rarely say them, so the
training and validation galaxies' references take those answers from the classifier (gz2.tree.completed:
its shares under the galaxy's own parent answers) and data/captions/completed.json names them. Test galaxies'
references are never completed: captions are scored against what volunteers said.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gzmorph.data.packed_splits import Split
from gzmorph.data.sources import SOURCE_COLUMN, answers_taught, sources_of
from gzmorph.gz2.tree import ID_COLUMN, QUESTION_BY_NUMBER, VOTE_COLUMNS, present_questions
from gzmorph.models.folder import ModelsFolder
from gzmorph.models.loaded import load_models, predict_images
from gzmorph.params import Params

COMPLETED_SPLITS = ("train", "val")


def main_rows(labels: pd.DataFrame, sources) -> pd.DataFrame:
    """The main source's rows of ``labels``."""
    if not answers_taught(sources):
        return labels
    return labels[labels[SOURCE_COLUMN].astype(str) == sources[0].name]


def taught_columns(labels: pd.DataFrame, params: Params) -> list[str]:
    """The vote columns some source teaches: every column of the main source's table, and the other
    sources' declared questions."""
    sources = sources_of(params.data)
    main = main_rows(labels, sources)
    columns = {c for q in present_questions(main.dropna(axis=1, how="all").columns) for c in q.columns}
    columns |= {c for s in params.data.more_sources for n in s.questions for c in QUESTION_BY_NUMBER[n].columns}
    return [c for c in VOTE_COLUMNS if c in columns]


def classifier_answers(labels: pd.DataFrame, splits: dict[str, Split], models_folder: ModelsFolder,
                       params: Params) -> pd.DataFrame | None:
    """GalaxyID -> the classifier's vote columns (NaN where no source taught them), for the galaxies of
    ``splits`` whose labels lack a taught column; None when none does (then no model is loaded)."""
    taught = taught_columns(labels, params)
    lacking = labels.set_index(ID_COLUMN)[taught].isna().any(axis=1)
    wanted = {name: np.flatnonzero(lacking.reindex(split.ids).fillna(False).to_numpy())
              for name, split in splits.items()}
    if not any(len(rows) for rows in wanted.values()):
        return None
    models = load_models(models_folder, captions=False)
    settings = models.settings(params)
    tables = []
    for name, rows in wanted.items():
        votes = predict_images(models, np.asarray(splits[name].images[rows]), settings).votes
        tables.append(pd.DataFrame(votes, columns=VOTE_COLUMNS, index=splits[name].ids[rows]))
    predicted = pd.concat(tables)
    predicted[[c for c in VOTE_COLUMNS if c not in taught]] = np.nan
    return predicted
