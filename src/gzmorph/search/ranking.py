"""A catalogue ranked by one of its columns, and the strangest galaxies: ranked by the predicted share of
volunteers who would answer "yes" to GZ2's "Is there anything odd?" (Class6.1).

How isolated a galaxy lies among the catalogue's embeddings (its mean cosine distance to its 10 nearest
neighbours) was measured as an oddity score too, alone and combined with the predicted fraction (the mean
of the two ranks). On the released model's test split the predicted fraction alone found the galaxies
volunteers called odd best, and the combination did worse than it (docs/results.md, "Similar galaxies,
few-shot finding and oddity"), so isolation is not part of the ranking.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.gz2.tree import QUESTION_BY_NUMBER
from gzmorph.search.catalogue import Catalogue
from gzmorph.search.fewshot import DEFAULT_TOP
from gzmorph.search.similar import RANK_COLUMN

ODD_COLUMN = QUESTION_BY_NUMBER[6].columns[0]  # "anything odd": yes


def ranked(catalogue: Catalogue, column: str, top: int = DEFAULT_TOP, ascending: bool = False) -> pd.DataFrame:
    """The ``top`` rows by ``column``, largest first unless ``ascending``: rank, the column, then the
    catalogue's other columns without its embeddings."""
    table = catalogue.table
    if column not in table.columns or not pd.api.types.is_numeric_dtype(table[column]):
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
                   and c not in catalogue.embedding_columns]
        raise GzmorphError(f"{catalogue.name}: no numeric column {column!r} to rank by; its columns include "
                           f"{', '.join(map(str, numeric[:12]))}")
    if top < 1:
        raise GzmorphError(f"top {top}: ask for at least one galaxy")
    order = np.argsort(table[column].to_numpy() * (1 if ascending else -1), kind="stable")[:top]
    rows = catalogue.described(order).reset_index(drop=True)
    rows.insert(0, column, rows.pop(column))
    rows.insert(0, RANK_COLUMN, np.arange(1, len(rows) + 1))
    return rows


def unusual(catalogue: Catalogue, top: int = DEFAULT_TOP) -> pd.DataFrame:
    """The ``top`` galaxies the models think volunteers would most often call odd."""
    if ODD_COLUMN not in catalogue.table:
        raise GzmorphError(f"{catalogue.name}: no {ODD_COLUMN} column (the predicted \"anything odd\" fraction): "
                           "its models did not learn GZ2's question 6; rank by another column with --sort")
    return ranked(catalogue, ODD_COLUMN, top)
