"""Where the trained models live (DVC outputs) and how they are saved and loaded."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras

from gzmorph.errors import GzmorphError
from gzmorph.io import read_json, write_json

CLASSIFIER_DIR = Path("models/classifier")
CAPTIONER_DIR = Path("models/captioner")
MODEL, META = "model.keras", "meta.json"


@dataclass
class Trained:
    model: keras.Model
    meta: dict


def save_model(directory: Path, model: keras.Model, meta: dict) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL)
    write_json(directory / META, meta)


def load_model(directory: Path, stage: str) -> Trained:
    """A model saved by ``save_model``; a missing one names the command that makes or fetches it."""
    directory = Path(directory)
    if not (directory / MODEL).is_file() or not (directory / META).is_file():
        raise GzmorphError(f"no trained model in {directory}; run `dvc repro {stage}` or `dvc pull {stage}`")
    import gzmorph.captioner  # noqa: F401  (registers the custom layers before loading)
    import gzmorph.classifier  # noqa: F401

    return Trained(keras.models.load_model(directory / MODEL, compile=False), read_json(directory / META))
