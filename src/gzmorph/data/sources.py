"""The labelled folders a pipeline learns from: ``data.raw_dir``, the main source, and ``data.more_sources``.

The main source teaches everything its table has: the class and every vote column, as Kaggle's products
down the tree. Another source teaches only the questions it is declared for, and only as shares of each
question's answers (a column over its question's total), weighted by how many volunteers reached the
question. Catalogues differ in scale (the Hart et al. 2016 catalogue gives the same pixels a smooth fraction
~0.2 higher than Kaggle's): a share of one question's answers carries no parent's scale, so the main
source's scale stays the one of every column it has, and the model's products are on that scale.

A galaxy's ``source`` is its folder's name; its split depends on its own catalogue and the seed alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.data.packed_splits import Split
from gzmorph.errors import GzmorphError
from gzmorph.gz2.tree import ID_COLUMN, QUESTION_BY_NUMBER, VOTE_COLUMNS, Question, answers_and_reach

SOURCE_COLUMN = "source"


@dataclass(frozen=True)
class Source:
    name: str  # the folder's name, each galaxy's ``source``
    raw_dir: Path
    questions: tuple[int, ...] | None  # the questions it teaches as answer shares; None: the main source

    @property
    def is_main(self) -> bool:
        return self.questions is None

    @property
    def taught(self) -> list[Question]:
        return [QUESTION_BY_NUMBER[n] for n in self.questions or ()]


ONE_SOURCE: tuple[Source, ...] = (Source("", Path(), None),)  # whatever its name: everything is learnt


def sources_of(data) -> list[Source]:
    """The main source first, then ``data.more_sources`` in the order params.yaml gives them."""
    main = Source(Path(data.raw_dir).name, Path(data.raw_dir), None)
    return [main, *(Source(Path(s.raw_dir).name, Path(s.raw_dir), tuple(s.questions)) for s in data.more_sources)]


def image_dirs(data) -> dict[str, Path]:
    """Each source's image folder by its name."""
    return {source.name: source.raw_dir / data.images for source in sources_of(data)}


def check_taught(source: Source, columns) -> None:
    """A source must hold every column of the questions it is declared to teach."""
    lacking = [q.number for q in source.taught if not set(q.columns) <= set(columns)]
    if lacking:
        raise GzmorphError(f"{source.raw_dir}: data.more_sources declares question(s) {lacking} but its table lacks "
                           "their columns; remove them from its questions or add the columns")


def joined(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The sources' label tables as one, each row with its ``source``, and how many rows each source lost
    because an earlier source has their GalaxyID: every later step knows a galaxy by its GalaxyID, and
    catalogues number their galaxies independently (5 of hart16's 667 IDs are Kaggle IDs of other galaxies)."""
    table = pd.concat([t.assign(**{SOURCE_COLUMN: name}) for name, t in tables.items()], ignore_index=True)
    taken = table[ID_COLUMN].duplicated()
    lost = {name: int(taken[table[SOURCE_COLUMN] == name].sum()) for name in tables}
    return table[~taken].sort_values(ID_COLUMN, kind="stable").reset_index(drop=True), lost


@dataclass(frozen=True)
class Taught:
    """What a split teaches, row by row (rows by VOTE_COLUMNS): NaN where nothing is learnt."""

    products: np.ndarray  # the main source's vote columns, as Kaggle's products
    answers: np.ndarray  # other sources' shares of each taught question's answers
    reach: np.ndarray  # the share of volunteers who reached each taught question: its answers' weight
    classes: np.ndarray  # bool: the row's class is learnt (the main source's rule, on its scale)


def taught(table: pd.DataFrame, votes: np.ndarray, sources: Sequence[Source]) -> Taught:
    """``table``'s rows (a split's, with ``votes`` its vote columns) as ``sources`` teach them."""
    origin = table[SOURCE_COLUMN].astype(str).to_numpy() if SOURCE_COLUMN in table else None
    main = origin == sources[0].name if answers_taught(sources) else np.ones(len(table), bool)
    products = np.where(main[:, None], votes, np.nan).astype(np.float32)
    shares, reached = answers_and_reach(votes)
    answers = np.full(votes.shape, np.nan, np.float32)
    for source in sources[1:]:
        rows = origin == source.name
        for question in source.taught:
            span = [VOTE_COLUMNS.index(c) for c in question.columns]
            answers[np.ix_(rows, span)] = shares[np.ix_(rows, span)]
    reach = np.where(np.isnan(answers), np.nan, reached).astype(np.float32)
    return Taught(products, answers, reach, main)


def answers_taught(sources: Sequence[Source]) -> bool:
    """Whether any source teaches answer shares: then the vote targets carry them (see ``Taught``)."""
    return len(sources) > 1


def source_splits(split: Split, sources: Sequence[Source]) -> dict[str, Split]:
    """``split``'s galaxies by source, the main one first, each without the vote columns it lacks (another
    source's questions), so that its figures and rules see its own catalogue only."""
    if not answers_taught(sources):
        return {sources[0].name: split}
    origin = split.table[SOURCE_COLUMN].astype(str).to_numpy()
    parts = {}
    for source in sources:
        rows = np.flatnonzero(origin == source.name)
        table = split.table.iloc[rows].reset_index(drop=True)
        unknown = [c for c in split.vote_columns if table[c].isna().all()]
        parts[source.name] = Split(np.asarray(split.images[rows]), table.drop(columns=unknown))
    return parts
