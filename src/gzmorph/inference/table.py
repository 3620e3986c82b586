"""The prediction table, from the forward pass's answers to the file: one row per image (class, the five
class probabilities, the vote fractions, the caption, the embedding on request), written as CSV or JSON."""
from __future__ import annotations

import json
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

FORMATS = (".csv", ".json")
PROBABILITY_PREFIX = "p_"
DECIMALS = 6
EMBEDDING_PREFIX = "embedding_"
MODELS_COLUMN = "models"  # naming the models that answered
FAMILIAR_COLUMN = "familiar"  # familiarity at most 1: like the galaxies the models learnt from
FILE_COLUMN, CLASS_COLUMN, CAPTION_COLUMN = "file", "class", "caption"


def check_output(path: Path) -> Path:
    """Fail before any work when the output's format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GzmorphError(f"{path}: the output must end in .csv or .json")
    return path


def unfamiliar_warning(rows: pd.DataFrame) -> str | None:
    """One line when most of the rows' images look unlike the galaxies the models learnt from."""
    if FAMILIAR_COLUMN not in rows or rows[FAMILIAR_COLUMN].mean() >= 0.5:
        return None
    unfamiliar = int((~rows[FAMILIAR_COLUMN]).sum())
    return (f"{unfamiliar} of {len(rows)} images look unlike the galaxies the models learnt from ({FAMILIAR_COLUMN} "
            "is False), so their classes and captions mean little; a cut-out should be framed as GZ2's "
            "(README, \"What a cut-out should look like\")")


def write_predictions(rows: pd.DataFrame, path: Path, vote_columns: list[str], provenance: dict) -> None:
    """``rows`` as the API returns them, their ``models`` column last. The CSV names the models on every row;
    the JSON once, with what they learnt from and any warning about them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        rows.to_csv(path, index=False)
    else:
        document = {**provenance, "predictions": json_records(rows.drop(columns=MODELS_COLUMN), vote_columns)}
        path.write_text(json.dumps(document, indent=1) + "\n")


def json_records(rows: pd.DataFrame, vote_columns: list[str]) -> list[dict]:
    """The CSV's columns, with the probabilities and the votes grouped under one key each."""
    probability_columns = [PROBABILITY_PREFIX + name for name in CLASSES]
    records = []
    for row in rows.to_dict("records"):
        record = {"file": row["file"], "class": row["class"],
                  "probabilities": {name: row[PROBABILITY_PREFIX + name] for name in CLASSES},
                  "votes": {column: row[column] for column in vote_columns}}
        record.update({k: v for k, v in row.items() if k not in record and k not in probability_columns
                       and k not in vote_columns})
        records.append(record)
    return records


def prediction_rows(predictions: Predictions, vote_columns: list[str], files: list[Path] | None = None,
                    ) -> pd.DataFrame:
    """One row per image: its file when given, class, the five class probabilities, the vote fractions, the
    caption, whether the picture is grey (``single_band``), how far it lies from the training galaxies
    (``familiarity``, ``familiar``: where the models folder has the statistics), and the embeddings when the
    predictions hold them."""
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
    return rows
