"""What ``gzmorph predict`` writes: a table (CSV, or JSON by the file's extension) and Grad-CAM overlays."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PIL import Image

from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import as_sentence
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import VOTE_COLUMNS
from gzmorph.inference.heatmaps import heatmap_overlay

if TYPE_CHECKING:  # importing gzmorph.inference.predict loads TensorFlow; checking --output should not wait for it
    from gzmorph.inference.predict import Predictions

FORMATS = (".csv", ".json")
PROBABILITY_PREFIX = "p_"
DECIMALS = 6
HEATMAP_SCALE = 4  # a 64 px model input is too small to see; nearest-neighbour keeps its pixels honest


def check_output(path: Path) -> Path:
    """Fail before any work when the output's format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GzmorphError(f"{path}: the output must end in .csv or .json")
    return path


def prediction_rows(paths: list[Path], predictions: Predictions, vote_columns: list[str]) -> pd.DataFrame:
    """One row per image: file, class, the five class probabilities, the vote fractions, the caption."""
    rows = pd.DataFrame({"file": [str(p) for p in paths],
                         "class": np.asarray(CLASSES, dtype=object)[predictions.classes]})
    for i, name in enumerate(CLASSES):
        rows[PROBABILITY_PREFIX + name] = predictions.probabilities[:, i].round(DECIMALS)
    votes = pd.DataFrame(predictions.votes, columns=VOTE_COLUMNS)[vote_columns].round(DECIMALS)
    rows[vote_columns] = votes.to_numpy()
    if predictions.captions is not None:
        rows["caption"] = [as_sentence(caption) for caption in predictions.captions]
    return rows


def write_predictions(rows: pd.DataFrame, path: Path, vote_columns: list[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        rows.to_csv(path, index=False)
    else:
        path.write_text(json.dumps(json_records(rows, vote_columns), indent=1) + "\n")


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


def heatmap_paths(paths: list[Path], out_dir: Path, taken: set[str]) -> list[Path]:
    """``<stem>.png`` per image, numbered when two inputs share a stem (a.jpg and a.png, or two folders)."""
    named = []
    for path in paths:
        name, copy = f"{path.stem}.png", 1
        while name in taken:
            copy += 1
            name = f"{path.stem}-{copy}.png"
        taken.add(name)
        named.append(Path(out_dir) / name)
    return named


def write_heatmap(image: np.ndarray, heat: np.ndarray, path: Path) -> None:
    """The model's view of the galaxy (cropped and resized) with the [0, 1] heat map blended over it."""
    picture = Image.fromarray(heatmap_overlay(image, heat))
    side = image.shape[0] * HEATMAP_SCALE
    picture.resize((side, side), Image.Resampling.NEAREST).save(path)
