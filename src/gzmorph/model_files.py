"""Where the trained models live (DVC outputs) and how they are saved and loaded."""
from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras

from gzmorph.errors import GzmorphError
from gzmorph.io import read_json, write_json

CLASSIFIER_DIR = Path("models/classifier")
CAPTIONER_DIR = Path("models/captioner")
MODEL, META = "model.keras", "meta.json"
# Any fixed time will do; 1980-01-01 is the earliest a zip entry can carry.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SHARED_ID = re.compile(r'"shared_object_id": (\d+)')


@dataclass
class Trained:
    model: keras.Model
    meta: dict


def save_model(directory: Path, model: keras.Model, meta: dict) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_keras_file(model, directory / MODEL)
    write_json(directory / META, meta)


def save_keras_file(model: keras.Model, path: Path) -> None:
    """``model.save``, made a function of the model alone: the same weights give the same bytes, so
    DVC sees an unchanged model as unchanged (dvc.lock, the remote's deduplication)."""
    with tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / MODEL
        model.save(saved)
        with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
            for name in sorted(source.namelist()):
                target.writestr(zipfile.ZipInfo(name, ZIP_TIME), stable_entry(name, source.read(name)))


def stable_entry(name: str, data: bytes) -> bytes:
    """An archive entry without what changes from one save to the next: the date in metadata.json, and
    the Python object ids that name shared objects in config.json (renumbered in order of appearance,
    which keeps the sharing that loading restores)."""
    if name == "metadata.json":
        metadata = json.loads(data)
        metadata.pop("date_saved", None)
        return json.dumps(metadata).encode()
    if name == "config.json":
        numbers: dict[str, int] = {}
        return SHARED_ID.sub(lambda m: f'"shared_object_id": {numbers.setdefault(m[1], len(numbers) + 1)}',
                             data.decode()).encode()
    return data


def load_model(directory: Path, stage: str) -> Trained:
    """A model saved by ``save_model``; a missing one names the command that makes or fetches it."""
    directory = Path(directory)
    if not (directory / MODEL).is_file() or not (directory / META).is_file():
        raise GzmorphError(f"no trained model in {directory}; run `dvc repro {stage}` or `dvc pull {stage}`")
    import gzmorph.captioner  # noqa: F401  (registers the custom layers before loading)
    import gzmorph.classifier  # noqa: F401

    return Trained(keras.models.load_model(directory / MODEL, compile=False), read_json(directory / META))
