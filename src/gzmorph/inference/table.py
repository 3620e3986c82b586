"""The prediction table's schema, the one home of its columns: one row per image (class, the five class
probabilities, the vote fractions, the caption, the embedding on request, the models that answered), as
the command line, the API, the benchmarks and the outputs (gzmorph.inference.output) all have it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import as_sentence
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import VOTE_COLUMNS

if TYPE_CHECKING:  # the command checks its --output with this module before TensorFlow loads
    from gzmorph.models.loaded import Predictions

FORMATS = (".csv", ".json", ".parquet")
PROBABILITY_PREFIX = "p_"
DECIMALS = 6
EMBEDDING_PREFIX = "embedding_"
MODELS_COLUMN = "models"  # naming the models that answered
GRADCAM_COLUMN = "gradcam"  # the heat map's file, where drawn
FAMILIAR_COLUMN = "familiar"  # familiarity at most 1: like the galaxies the models learnt from
FILE_COLUMN = "file"  # the image file a row answers, where the input was a file rather than an array
CLASS_COLUMN, CAPTION_COLUMN = "class", "caption"


def check_output(path: Path) -> Path:
    """Fail before any work when the output's format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GzmorphError(f"{path}: the output must end in .csv, .json or .parquet")
    return path


def unfamiliar_warning(unfamiliar: int, rows: int) -> str | None:
    """One line when most of a run's ``rows`` images (``unfamiliar`` of them) look unlike the galaxies the
    models learnt from."""
    if not rows or unfamiliar <= rows / 2:
        return None
    return (f"{unfamiliar} of {rows} images look unlike the galaxies the models learnt from ({FAMILIAR_COLUMN} "
            "is False), so their classes and captions mean little; a cut-out should be framed as GZ2's "
            "(README, \"What a cut-out should look like\")")


def unfamiliar_count(rows: pd.DataFrame) -> int:
    return int((~rows[FAMILIAR_COLUMN]).sum()) if FAMILIAR_COLUMN in rows else 0


def joined(table: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """A catalogue's rows (IDs, positions) with their answers after them; a column of the catalogue that an
    answer also names (``class``, ``models``) gives way to the answer's, and the answers' ``file`` to the
    catalogue's own path column."""
    answers = answers.drop(columns=FILE_COLUMN).set_axis(table.index)
    return pd.concat([table.drop(columns=answers.columns, errors="ignore"), answers], axis=1)


def json_records(rows: pd.DataFrame, vote_columns: list[str]) -> list[dict]:
    """The rows' columns in order, the probabilities and the votes each grouped under one key where the first
    of them stands."""
    groups = {**{PROBABILITY_PREFIX + name: ("probabilities", name) for name in CLASSES},
              **{column: ("votes", column) for column in vote_columns}}
    records = []
    for row in rows.to_dict("records"):
        record: dict = {}
        for column, value in row.items():
            if column in groups:
                group, name = groups[column]
                record.setdefault(group, {})[name] = value
            else:
                record[column] = value
        records.append(record)
    return records


def prediction_rows(predictions: Predictions, vote_columns: list[str], models: str, files: list[Path] | None = None,
                    heatmaps: list[str] | None = None) -> pd.DataFrame:
    """The one schema of a prediction row: its file when given, class, the five class probabilities, the vote
    fractions, the caption, whether the picture is grey (``single_band``), how far it lies from the training
    galaxies (``familiarity``, ``familiar``: where the models folder has the statistics), the embeddings when
    the predictions hold them, its Grad-CAM file when drawn, and last the ``models`` that answered."""
    rows = pd.DataFrame({FILE_COLUMN: [str(f) for f in files]} if files is not None else {})
    rows[CLASS_COLUMN] = np.asarray(CLASSES, dtype=object)[predictions.classes]
    for i, name in enumerate(CLASSES):
        rows[PROBABILITY_PREFIX + name] = predictions.probabilities[:, i].round(DECIMALS)
    votes = pd.DataFrame(predictions.votes, columns=VOTE_COLUMNS)[vote_columns].round(DECIMALS)
    rows[vote_columns] = votes.to_numpy()
    if predictions.captions is not None:
        rows[CAPTION_COLUMN] = [as_sentence(caption) for caption in predictions.captions]
    rows["single_band"] = predictions.single_band
    if predictions.familiarity is not None:
        rows["familiarity"] = predictions.familiarity.round(DECIMALS)
        rows[FAMILIAR_COLUMN] = predictions.familiarity <= 1
    if predictions.embeddings is not None:
        columns = [f"{EMBEDDING_PREFIX}{i}" for i in range(predictions.embeddings.shape[1])]
        rows = pd.concat([rows, pd.DataFrame(predictions.embeddings, columns=columns)], axis=1)
    if heatmaps is not None:
        rows[GRADCAM_COLUMN] = heatmaps
    rows[MODELS_COLUMN] = models
    return rows
