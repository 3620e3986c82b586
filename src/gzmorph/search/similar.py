"""Galaxies like a query: its k nearest rows of the catalogue by cosine similarity, as a table."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.inference.table import EMBEDDING_PREFIX
from gzmorph.search.catalogue import Catalogue, Source
from gzmorph.search.index import VectorIndex, kept_index
from gzmorph.search.queries import Embed, Items, Query, queries

DEFAULT_K = 20
QUERY_COLUMN, RANK_COLUMN, SIMILARITY_COLUMN = "query", "rank", "similarity"
QUERY_RANK = 0  # the row of a result table that shows the query (or an example) itself


def similar_to(items: Items, source: Source, k: int = DEFAULT_K, rebuild: bool = False,
               embed: Embed | None = None) -> pd.DataFrame:
    """``similar`` for queries named as ``queries`` takes them, in the catalogue at ``source`` (its index kept
    beside it). ``embed`` is called only for image queries, after every cheaper check."""
    catalogue = Catalogue.read(source)
    index = kept_index(catalogue.path, catalogue.vectors, rebuild)
    return similar(queries(items, catalogue, embed), catalogue, index, k)


def similar(found: list[Query], catalogue: Catalogue, index: VectorIndex, k: int = DEFAULT_K) -> pd.DataFrame:
    """Per query, the query itself (rank 0) and its ``k`` nearest galaxies, nearest first (a query that is a
    row of the catalogue is not its own neighbour): the query's name, the rank, the cosine similarity in the
    index's representation, then the catalogue's own columns without its embeddings."""
    if k < 1:
        raise GzmorphError(f"k {k}: ask for at least one neighbour")
    similarities, rows = index.search(np.stack([q.vector for q in found]), k + 1)
    tables = []
    for query, near, score in zip(found, rows, similarities):
        keep = (near >= 0) & (near != (-1 if query.row is None else query.row))
        near, score = near[keep][:k], score[keep][:k]
        head = pd.DataFrame({QUERY_COLUMN: query.name, RANK_COLUMN: np.arange(1, len(near) + 1),
                             SIMILARITY_COLUMN: score.round(6)})
        neighbours = pd.concat([head, catalogue.described(near).reset_index(drop=True)], axis=1)
        tables += [shown(query, SIMILARITY_COLUMN).assign(**{QUERY_COLUMN: query.name}), neighbours]
    table = pd.concat(tables, ignore_index=True)
    return table[[*head.columns, *[c for c in table.columns if c not in head.columns]]]


def shown(query: Query, score: str) -> pd.DataFrame:
    """The query as a row of a result table, at rank 0, without a score; its embeddings left out."""
    described = query.described.drop([c for c in query.described.index if str(c).startswith(EMBEDDING_PREFIX)])
    return pd.concat([pd.DataFrame({RANK_COLUMN: [QUERY_RANK], score: [np.nan]}),
                      pd.DataFrame([described.to_dict()])], axis=1)
