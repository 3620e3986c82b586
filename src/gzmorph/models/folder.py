"""A models folder's layout, the one place that knows it: ``classifier/`` and ``captioner/`` (each a Keras
file and its record, gzmorph.models.files) and the model card ``README.md``.

Two folders are special: the pipeline's own, ``models/`` in a clone, which DVC makes and fetches, and the
released one, trained on real GZ2 galaxies, which ships inside the package (``models/released`` in a clone;
pyproject.toml maps it onto ``gzmorph/released`` in a wheel).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from gzmorph.models.files import CaptionerRecord, ClassifierRecord, Record, Trained, load_model
from gzmorph.paths import MODELS

CLASSIFIER, CAPTIONER, CARD = "classifier", "captioner", "README.md"
SUBFOLDER = {ClassifierRecord: CLASSIFIER, CaptionerRecord: CAPTIONER}
STAGE_OF = {ClassifierRecord: "train_classifier", CaptionerRecord: "train_captioner"}


def released_root() -> Path:
    """Where the released model lies, found without importing its folder (which would leave bytecode there)."""
    return Path(importlib.util.find_spec("gzmorph.released").submodule_search_locations[0])


@dataclass(frozen=True)
class ModelsFolder:
    root: Path

    @classmethod
    def released(cls) -> ModelsFolder:
        return cls(released_root())

    @classmethod
    def named(cls, folder: str | Path | None) -> ModelsFolder:
        """``folder``, or the released model when None."""
        return cls.released() if folder is None else cls(Path(folder))

    @property
    def name(self) -> str:
        """What outputs call the folder: the released model by its package version, wherever it is installed;
        any other by its path as given."""
        if self.root.resolve() == released_root().resolve():
            return f"released (gzmorph {importlib.metadata.version('gzmorph')})"
        return str(self.root)

    @property
    def classifier(self) -> Path:
        return self.root / CLASSIFIER

    @property
    def captioner(self) -> Path:
        return self.root / CAPTIONER

    @property
    def card(self) -> Path:
        return self.root / CARD

    @property
    def is_pipelines(self) -> bool:
        """The pipeline's own models/ (from the repository root): the one DVC makes and fetches."""
        return self.root.resolve() == MODELS.resolve()

    def load(self, kind: type[Record]) -> Trained:
        """The classifier or captioner saved here; what a missing or stale one says depends on the folder."""
        stage = STAGE_OF[kind]
        if self.is_pipelines:
            missing, stale = f"run `dvc repro {stage}` or `dvc pull {stage}`", f"rerun `dvc repro {stage}`"
        else:
            missing = (f"--models takes a folder holding {CLASSIFIER}/ and {CAPTIONER}/ as the pipeline's models/ "
                       "does; leave it out to use the released model")
            stale = "another version of gzmorph saved it; use that version, or retrain with this one"
        return load_model(self.root / SUBFOLDER[kind], kind, missing, stale)


PIPELINE = ModelsFolder(MODELS)  # what the training stages write and the evaluate stage scores
