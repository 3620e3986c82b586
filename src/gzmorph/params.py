"""params.yaml, validated: an unknown or misspelled key, a wrong type or an out-of-range value stops
the stage with one line naming the key (``dvc exp run -S`` would otherwise add a typo as a new param).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types
import pydantic
import yaml

from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import CaptionConfig
from gzmorph.gz2.rule import Rule
from gzmorph.gz2.tree import QUESTIONS
from gzmorph.paths import PARAMS, SAMPLE

Positive = annotated_types.Gt(0)
OpenFraction = Annotated[float, annotated_types.Interval(gt=0.0, lt=1.0)]
Fraction = Annotated[float, annotated_types.Interval(ge=0.0, lt=1.0)]


Question = Annotated[int, annotated_types.Interval(ge=1, le=len(QUESTIONS))]


@dataclass(frozen=True)
class MoreSource:
    """Another labelled folder in the main one's layout, which teaches the answers of ``questions`` only:
    shares of each question's answers, so its catalogue's scale never reaches another question's columns
    (gzmorph.data.sources)."""

    raw_dir: str
    questions: Annotated[tuple[Question, ...], annotated_types.MinLen(1)]

    def __post_init__(self):
        if len(set(self.questions)) != len(self.questions):
            raise GzmorphError(f"data.more_sources: {self.raw_dir} names a question twice in {list(self.questions)}")


@dataclass(frozen=True)
class Data:
    raw_dir: str = str(SAMPLE)
    images: str = "images_training_rev1"
    solutions: str = "training_solutions_rev1.csv"
    more_sources: tuple[MoreSource, ...] = ()

    def __post_init__(self):
        names = [Path(folder).name for folder in (self.raw_dir, *(s.raw_dir for s in self.more_sources))]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise GzmorphError(f"data.more_sources: two labelled folders are named {twice[0]!r}; a galaxy's source "
                               "is its folder's name, so give each a folder of its own name")


@dataclass(frozen=True)
class Image:
    crop: Annotated[int, Positive] = 207  # pixels of Kaggle's 424 px frame (Dieleman et al. 2015)
    # Not "size": DVC 3.67 leaves every key named size out of its run-cache key, so a changed
    # image.size would restore the old split from the cache instead of rerunning it.
    pixels: Annotated[int, annotated_types.Ge(8)] = 64


@dataclass(frozen=True)
class CleanLabels:
    sum_tolerance: Annotated[float, annotated_types.Ge(0)] = 0.03
    rule: Rule = field(default_factory=Rule)


@dataclass(frozen=True)
class SplitParams:
    val_fraction: OpenFraction = 0.15
    test_fraction: OpenFraction = 0.15
    seed: int = 0
    workers: Annotated[int, Positive] = 2

    def __post_init__(self):
        if self.val_fraction + self.test_fraction >= 1:
            raise GzmorphError("split.val_fraction + split.test_fraction must be below 1: nothing is left to train on")


@dataclass(frozen=True)
class Augmentation:
    rotate: bool = True
    flip: bool = True
    shift: Fraction = 0.05
    zoom: Fraction = 0.1


Strategy = Literal["default", "mirrored", "multi_worker"]  # tf.distribute strategies, see gzmorph.training.distribute


@dataclass(frozen=True)
class ClassifierParams:
    """The ``train_classifier`` params."""

    backbone: Literal["small_cnn", "resnet50"] = "small_cnn"
    weights: str = "none"  # resnet50 only: none, imagenet, or a local weights file
    init: str = "none"  # none, or a models folder (models/released): fine-tune from its classifier's weights
    freeze_encoder: bool = False  # with init: train the heads only
    width: Annotated[int, Positive] = 32
    dropout: Fraction = 0.3
    epochs: Annotated[int, Positive] = 30
    batch_size: Annotated[int, Positive] = 64
    learning_rate: Annotated[float, Positive] = 0.002
    vote_loss_weight: Annotated[float, annotated_types.Ge(0)] = 50.0
    ema_momentum: Fraction = 0.0  # a moving average of the weights is what is validated and kept; 0: off
    balance_classes: bool = False
    augment: Augmentation = field(default_factory=Augmentation)
    precision: Literal["float32", "mixed_bfloat16"] = "float32"  # the encoder's arithmetic
    # tf.distribute: batch_size is per replica; see gzmorph.training.distribute
    strategy: Strategy = "default"
    checkpoint_dir: str = ".dvc/tmp/train_classifier"  # BackupAndRestore: an interrupted run resumes


@dataclass(frozen=True)
class CaptionerParams:
    embed_dim: Annotated[int, Positive] = 64
    units: Annotated[int, Positive] = 128
    attention_units: Annotated[int, Positive] = 64
    dropout: Annotated[float, annotated_types.Interval(ge=0.0, lt=1.0)] = 0.2
    epochs: Annotated[int, Positive] = 20
    batch_size: Annotated[int, Positive] = 64
    learning_rate: Annotated[float, Positive] = 0.002
    patience: Annotated[int, Positive] = 3


@dataclass(frozen=True)
class InferenceParams:
    """How the trained models answer: the training stages' class decision and caption features, the
    evaluate stage and the ``gzmorph`` command all read these."""

    tta: bool = True  # gzmorph predict: only with --tta
    beam_width: Annotated[int, Positive] = 5
    length_penalty: Annotated[float, annotated_types.Ge(0)] = 0.7


@dataclass(frozen=True)
class EvaluateParams:
    examples_per_class: Annotated[int, annotated_types.Ge(1)] = 3
    bootstrap: Annotated[int, Positive] = 1000  # resamples of the test galaxies for the 95 % intervals


class Params(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    # TensorFlow's threads per op in the training and evaluate stages (gzmorph.threads): the bits of the
    # models depend on it, so it is a param rather than the machine's core count.
    threads: Annotated[int, Positive] = 2
    data: Data = Data()
    image: Image = Image()
    clean_labels: CleanLabels = CleanLabels()
    split: SplitParams = SplitParams()
    build_captions: CaptionConfig = CaptionConfig()
    train_classifier: ClassifierParams = ClassifierParams()
    train_captioner: CaptionerParams = CaptionerParams()
    inference: InferenceParams = InferenceParams()
    evaluate: EvaluateParams = EvaluateParams()


def load_params(path: Path = PARAMS) -> Params:
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise GzmorphError(f"{path} is missing; run from the repository root") from None
    except yaml.YAMLError as error:
        raise GzmorphError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    try:
        return Params.model_validate(raw)
    except pydantic.ValidationError as error:
        raise GzmorphError(f"{path}: {error_line(error.errors()[0])}") from None


def error_line(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"unknown param {key!r} (a typo?); remove it or fix its name"
    return f"{key}: {error['msg']} (got {error.get('input')!r})"


def set_params(file: Path, changes: dict, source: Path | None = None) -> None:
    """Writes ``file``: the params of ``source`` (``file`` itself by default) with each dotted key set, as
    ``dvc exp run -S`` sets them; a value given as text is read as YAML, as there. Comments are not kept,
    and a misspelt key is written as it is, for ``load_params`` to name."""
    params = yaml.safe_load(Path(source or file).read_text())
    for key, value in changes.items():
        *sections, last = key.split(".")
        target = params
        for section in sections:
            target = target.setdefault(section, {})
        target[last] = yaml.safe_load(value) if isinstance(value, str) else value
    Path(file).write_text(yaml.safe_dump(params, sort_keys=False))
