"""What a search starts from: rows of the catalogue named by file or ID, image files or cut-out arrays (which
the caller's models embed), or embedding vectors themselves."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.inference.table import FILE_COLUMN, MODELS_COLUMN
from gzmorph.search.catalogue import Catalogue

Items = str | Path | Sequence[str | Path] | np.ndarray
# Image files or a uint8 array of cut-outs -> their prediction table with embeddings (gzmorph.api's predict)
Embed = Callable[[list[Path] | np.ndarray], pd.DataFrame]


@dataclass
class Query:
    name: str
    vector: np.ndarray  # (d,) its embedding
    row: int | None  # its row in the catalogue, which its own results leave out
    described: pd.Series  # its class, caption ... as a prediction table has them
    picture: str | np.ndarray | None  # a file or a cut-out for contact sheets; None for a bare vector


def queries(items: Items, catalogue: Catalogue, embed: Embed | None) -> list[Query]:
    """One Query per item. A float array is embeddings, one row each; a uint8 array cut-outs; anything else
    names catalogue rows (by file, file name or ID) or image files. ``embed`` is called once, for the
    cut-outs or the files that are no row, and only then (None: such items are an error)."""
    if isinstance(items, np.ndarray):
        return from_array(items, catalogue, embed)
    names = [str(item) for item in ([items] if isinstance(items, str | Path) else items)]
    if not names:
        raise GzmorphError("no query given: name a row of the catalogue, an image file or an array")
    rows = [catalogue.row_named(name) for name in names]
    files = [Path(name) for name, row in zip(names, rows) if row is None]
    for file in files:
        if not file.is_file():
            raise GzmorphError(f"{file}: neither a row of {catalogue.name} (by file, file name or ID) nor an "
                               "image file")
    embedded = iter(embedded_rows(files, catalogue, embed).iterrows()) if files else iter(())
    found = []
    for name, row in zip(names, rows):
        if row is None:
            _, described = next(embedded)
            found.append(Query(name, vector_of(described, catalogue), None, described, name))
        else:
            described = catalogue.table.iloc[row]
            found.append(Query(name, catalogue.vectors[row], row, described, described.get(FILE_COLUMN)))
    return found


def from_array(items: np.ndarray, catalogue: Catalogue, embed: Embed | None) -> list[Query]:
    if items.dtype == np.uint8:  # (n, height, width, 3) or (n, height, width), as predict takes them
        table = embedded_rows(items, catalogue, embed)
        return [Query(f"array[{i}]", vector_of(row, catalogue), None, row, items[i])
                for i, (_, row) in enumerate(table.iterrows())]
    vectors = np.atleast_2d(np.asarray(items, np.float32))
    if vectors.ndim != 2 or vectors.shape[1] != len(catalogue.embedding_columns):
        raise GzmorphError(f"query array of shape {items.shape}: embeddings need {len(catalogue.embedding_columns)} "
                           "values a row, as the catalogue has; cut-outs are uint8")
    return [Query(f"vector[{i}]", vector, None, pd.Series(dtype=object), None) for i, vector in enumerate(vectors)]


def embedded_rows(images: list[Path] | np.ndarray, catalogue: Catalogue, embed: Embed | None) -> pd.DataFrame:
    if embed is None:
        raise GzmorphError(f"an image query needs the models that wrote {catalogue.name}: load them "
                           "(gzmorph.load(...).similar) or give a row of the catalogue")
    table = embed(images)
    check_same_models(catalogue, set(table[MODELS_COLUMN].astype(str)))
    if len(table) != len(images):
        raise GzmorphError(f"{len(images) - len(table)} query image(s) could not be read; see the lines above")
    return table


def check_same_models(catalogue: Catalogue, models: set[str]) -> None:
    """Embeddings of other models live in another space: comparing them would rank noise."""
    if catalogue.models and catalogue.models != models:
        raise GzmorphError(f"{catalogue.name} was written by {', '.join(sorted(catalogue.models))}, the query by "
                           f"{', '.join(sorted(models))}; give the catalogue's models (--models)")


def vector_of(described: pd.Series, catalogue: Catalogue) -> np.ndarray:
    missing = [c for c in catalogue.embedding_columns if c not in described.index]
    if missing:
        raise GzmorphError(f"the query's embeddings have fewer columns than {catalogue.name}'s; embed it with the "
                           "models that wrote the catalogue")
    return described[catalogue.embedding_columns].to_numpy(np.float32)
