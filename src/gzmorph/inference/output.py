"""What ``gzmorph predict`` writes: a table (CSV, or JSON by the file's extension) and Grad-CAM overlays."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from PIL import Image

from gzmorph.errors import GzmorphError
from gzmorph.gz2.rule import CLASSES

FORMATS = (".csv", ".json")
PROBABILITY_PREFIX = "p_"
DECIMALS = 6
HEATMAP_ALPHA = 0.45
HEATMAP_SCALE = 4  # a 64 px model input is too small to see; nearest-neighbour keeps its pixels honest


def check_output(path: Path) -> Path:
    """Fail before any work when the output's format is unknown."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GzmorphError(f"{path}: the output must end in .csv or .json")
    return path


def write_predictions(rows: pd.DataFrame, path: Path, vote_columns: list[str], provenance: dict) -> None:
    """The CSV names the models on every row; the JSON once, with what they learnt from and any warning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        rows.assign(models=provenance["models"]).to_csv(path, index=False)
    else:
        document = {**provenance, "predictions": json_records(rows, vote_columns)}
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


def heatmap_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """uint8 RGB: ``image`` with the [0, 1] heat map, in jet colours, blended over it."""
    colours = matplotlib.colormaps["jet"](heat)[..., :3]
    blended = (1 - HEATMAP_ALPHA) * image / 255.0 + HEATMAP_ALPHA * colours
    return np.round(blended * 255).astype(np.uint8)
