"""Galaxies like a handful of examples: a logistic regression (L2-regularised, classes weighted to balance)
on the index's unit vectors, the examples against random galaxies of the catalogue as the background, and any
counter-examples added to the background. Every row is ranked by the model's decision function: how far on
the examples' side of the boundary it lies (docs/results.md measures it from five examples)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from gzmorph.errors import GzmorphError
from gzmorph.search.catalogue import Catalogue, Source
from gzmorph.search.index import VectorIndex, kept_index
from gzmorph.search.queries import Embed, Items, Query, queries
from gzmorph.search.similar import RANK_COLUMN, shown

DEFAULT_TOP = 50
BACKGROUND = 1_000  # random catalogue galaxies the examples are told apart from
REGULARISATION = 1.0  # scikit-learn's C: the inverse strength of the L2 penalty
SEED = 0
SCORE_COLUMN = "resemblance"


def resemblance(vectors: np.ndarray, like: np.ndarray, unlike: np.ndarray | None = None,
                left_out: np.ndarray | None = None, seed: int = SEED) -> np.ndarray:
    """Each of ``vectors``' rows scored by how much it resembles the ``like`` rows (higher: more), against a
    background of up to BACKGROUND random rows (never the ``left_out`` rows: the examples themselves) and the
    ``unlike`` rows. All are unit vectors of one representation."""
    if not len(like):
        raise GzmorphError("no example galaxies given: name at least one with --like")
    candidates = np.setdiff1d(np.arange(len(vectors)), left_out if left_out is not None else [])
    rng = np.random.default_rng(seed)
    background = vectors[rng.choice(candidates, min(BACKGROUND, len(candidates)), replace=False)]
    negatives = background if unlike is None or not len(unlike) else np.concatenate([background, unlike])
    if not len(negatives):
        raise GzmorphError("the catalogue holds no galaxy besides the examples to tell them apart from")
    features = np.concatenate([like, negatives])
    labels = np.r_[np.ones(len(like)), np.zeros(len(negatives))]
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=1_000)
    return model.fit(features, labels).decision_function(vectors)


def find_like(like: Items, source: Source, unlike: Items = (), top: int = DEFAULT_TOP, rebuild: bool = False,
              embed: Embed | None = None) -> pd.DataFrame:
    """``find`` for examples named as gzmorph.search.queries takes them, in the catalogue at ``source``
    (whose index holds the representation the examples are compared in)."""
    catalogue = Catalogue.read(source)
    index = kept_index(catalogue.path, catalogue.vectors, rebuild)
    examples = queries(like, catalogue, embed)
    counter = queries(unlike, catalogue, embed) if len(unlike) else []
    return find(examples, catalogue, index, counter, top)


def find(like: list[Query], catalogue: Catalogue, index: VectorIndex, unlike: list[Query] = (),
         top: int = DEFAULT_TOP) -> pd.DataFrame:
    """The ``like`` examples (rank 0), then the ``top`` galaxies of the catalogue most like them, best first:
    rank, resemblance, then the catalogue's own columns without its embeddings."""
    if top < 1:
        raise GzmorphError(f"top {top}: ask for at least one galaxy")
    mapped = index.mapping(catalogue.vectors)
    examples = np.array([q.row for q in [*like, *unlike] if q.row is not None], int)
    score = resemblance(mapped, index.mapping(np.stack([q.vector for q in like])),
                        index.mapping(np.stack([q.vector for q in unlike])) if unlike else None, examples)
    score[examples] = -np.inf
    order = np.argsort(-score, kind="stable")[:min(top, len(score) - len(np.unique(examples)))]
    head = pd.DataFrame({RANK_COLUMN: np.arange(1, len(order) + 1), SCORE_COLUMN: score[order].round(6)})
    found = pd.concat([head, catalogue.described(order).reset_index(drop=True)], axis=1)
    return pd.concat([*[shown(example, SCORE_COLUMN) for example in like], found], ignore_index=True)
