"""A models folder's layout, the one place that knows it: every file and subfolder name of a models folder
is written here, and everything else asks ``ModelsFolder`` for the path. ``classifier/`` and ``captioner/``
each hold a Keras file and its record (gzmorph.models.files reads and writes them), the classifier's beside
the familiarity statistics of its training galaxies (gzmorph.models.familiarity); ``README.md`` is the model
card (gzmorph.models.card). A release (scripts/release_model.py) adds how it was made, its GalaxyIDs, its
figures and its params.

Two folders are special: the pipeline's own, ``models/`` in a clone, which DVC makes and fetches, and the
released one, trained on real GZ2 galaxies, which ships inside the package (``models/released`` in a clone;
pyproject.toml maps it onto ``gzmorph/released`` in a wheel).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from gzmorph.errors import GzmorphError
from gzmorph.models.files import (
    CaptionerRecord,
    ClassifierRecord,
    Record,
    Trained,
    check_kind,
    load_keras_file,
    load_record,
    save_keras_file,
    save_record,
)
from gzmorph.paths import MODELS, PARAMS

CLASSIFIER, CAPTIONER = "classifier", "captioner"  # one subfolder a model
MODEL, META = "model.keras", "meta.json"  # in each model's subfolder: the Keras file and its record
FAMILIARITY = "familiarity.npz"  # in classifier/, beside its model and record
CARD = "README.md"
RUN, IDS, METRICS = "release.json", "galaxy_ids.csv", "metrics"  # a release's: how it was made, its galaxies, figures
OTHER_RELEASE = "hart16.json"  # in metrics/: the models' scores on another image release
PACKAGE = "__init__.py"  # what makes the released folder a Python package, and no file of the models'
SUBFOLDER = {ClassifierRecord: CLASSIFIER, CaptionerRecord: CAPTIONER}
STAGE_OF = {ClassifierRecord: "train_classifier", CaptionerRecord: "train_captioner"}


class Advice(NamedTuple):
    """What a user is told to do when a model's files are missing, are what another version of gzmorph wrote,
    or are damaged."""

    missing: str
    stale: str
    damaged: str


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
        if self.is_released:
            return f"released (gzmorph {importlib.metadata.version('gzmorph')})"
        return str(self.root)

    @property
    def classifier(self) -> Path:
        return self.root / CLASSIFIER

    @property
    def captioner(self) -> Path:
        return self.root / CAPTIONER

    def keras_file(self, kind: type[Record]) -> Path:
        return self.root / SUBFOLDER[kind] / MODEL

    def record_file(self, kind: type[Record]) -> Path:
        return self.root / SUBFOLDER[kind] / META

    @property
    def familiarity(self) -> Path:
        return self.classifier / FAMILIARITY

    @property
    def card(self) -> Path:
        return self.root / CARD

    @property
    def run(self) -> Path:
        return self.root / RUN

    @property
    def galaxy_ids(self) -> Path:
        return self.root / IDS

    @property
    def metrics(self) -> Path:
        return self.root / METRICS

    @property
    def other_release(self) -> Path:
        return self.metrics / OTHER_RELEASE

    @property
    def params(self) -> Path:
        return self.root / PARAMS.name

    def files(self) -> list[Path]:
        """Every file here but the card and what makes the released folder a Python package: what the card
        lists and a release holds to git's sizes."""
        return sorted(path for path in self.root.rglob("*") if path.is_file() and path.name not in (CARD, PACKAGE)
                      and "__pycache__" not in path.parts)

    @property
    def is_released(self) -> bool:
        return self.root.resolve() == released_root().resolve()

    @property
    def is_pipelines(self) -> bool:
        """The pipeline's own models/ (from the repository root): the one DVC makes and fetches."""
        return self.root.resolve() == MODELS.resolve()

    def save(self, trained: Trained) -> None:
        """The model and its record in the subfolder of its kind."""
        kind = type(trained.record)
        self.keras_file(kind).parent.mkdir(parents=True, exist_ok=True)
        save_keras_file(trained.model, self.keras_file(kind))
        save_record(self.record_file(kind), trained.record)

    def rewrite_record(self, record: Record) -> None:
        """A saved model's record alone, rewritten (a release names its data by what they are)."""
        save_record(self.record_file(type(record)), record)

    def advice(self, kind: type[Record]) -> Advice:
        """What to do when the classifier or captioner here is missing, stale or damaged: DVC's commands for
        the pipeline's folder, a reinstall for the released one, none for any other."""
        stage = STAGE_OF[kind]
        if self.is_pipelines:
            return Advice(f"run `dvc repro {stage}` or `dvc pull {stage}`", f"rerun `dvc repro {stage}`",
                          f"rerun `dvc repro {stage}`")
        missing = (f"--models takes a folder holding {CLASSIFIER}/ and {CAPTIONER}/ as the pipeline's models/ does; "
                   "leave it out to use the released model")
        stale = "another version of gzmorph saved it; use that version, or retrain with this one"
        if self.is_released:
            return Advice(missing, stale, f"reinstall gzmorph (in a clone: `git checkout -- {self.root}`)")
        return Advice(missing, stale, "copy the folder again from where it came, or leave out --models to use the "
                                      "released model")

    def record(self, kind: type[Record], stale: str | None = None) -> Record:
        """The record of the classifier or captioner saved here; ``stale`` says what to do when it is not what
        this version of gzmorph writes (the folder's own advice when None)."""
        advice = self.advice(kind)
        self.check_saved(kind, advice.missing)
        return load_record(self.record_file(kind), kind, stale or advice.stale)

    def load(self, kind: type[Record]) -> Trained:
        """The classifier or captioner saved here; what a missing, stale or damaged one says depends on the
        folder. Each ends in one line naming the file, and no code in a file is ever run."""
        record, damaged = self.record(kind), self.advice(kind).damaged
        model = load_keras_file(self.keras_file(kind), damaged)
        check_kind(self.keras_file(kind), model, kind, damaged)
        return Trained(model, record)

    def check_saved(self, kind: type[Record], missing: str) -> None:
        if not self.keras_file(kind).is_file() or not self.record_file(kind).is_file():
            raise GzmorphError(f"no trained model in {self.keras_file(kind).parent}; {missing}")


PIPELINE = ModelsFolder(MODELS)  # what the training stages write and the evaluate stage scores
