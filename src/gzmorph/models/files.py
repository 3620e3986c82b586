"""How a trained model is saved and loaded: a Keras file and a typed record of what scoring and using the
model needs, its settings included, so that a models folder answers the same from anywhere (the one place
that writes and reads them; gzmorph.models.folder names them and knows where they lie)."""
from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import pydantic

from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import CaptionConfig
from gzmorph.gz2.rule import Rule
from gzmorph.io import read_json, write_json
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, ClassDecision

# Any fixed time will do; 1980-01-01 is the earliest a zip entry can carry.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SHARED_ID = re.compile(r'"shared_object_id": (\d+)')
ZIP_START = b"PK\x03\x04"  # how a zip archive, as a .keras file is, begins


@dataclass(frozen=True)
class ClassifierRecord:
    decision: ClassDecision
    val_scores: dict[str, float]  # each candidate's validation accuracy + macro F1
    train_vote_means: list[float | None]  # the constant baseline; None where training lacked a column
    pixels: int  # the model's input, pixels a side
    crop: int  # the centre crop it was trained on, in pixels of Kaggle's 424 px frame
    trained_on: str  # the data folder it learnt from (params.yaml's data.raw_dir)
    synthetic: bool  # learnt from the embedded synthetic sample: its answers mean nothing for real galaxies
    rule: Rule  # clean_labels.rule, which the decision was tuned with: class_from votes applies it
    tta: bool  # inference.tta, which the decision was tuned with: the folder's default
    # The answer shares' constant baseline (gzmorph.inference.questions); None in models made before it was kept.
    train_answer_means: list[float | None] | None = None
    # The vote columns some source taught it, which its tables give; None: the decision's (models made before).
    answered_columns: list[str] | None = None

    @property
    def learnt_columns(self) -> list[str]:
        """The vote columns it learnt, which its predictions give."""
        return self.answered_columns or self.decision.vote_columns


@dataclass(frozen=True)
class CaptionerRecord:
    max_len: int  # the longest training caption, its end token included
    most_frequent_caption: str  # the constant baseline: the training split's commonest caption
    vocab: list[str]
    build_captions: CaptionConfig  # the templates of its training captions, which scoring compares it with
    beam_width: int  # inference.beam_width and length_penalty when it was trained: the folder's defaults
    length_penalty: float


Record = ClassifierRecord | CaptionerRecord


@dataclass
class Trained:
    model: keras.Model
    record: Record


def save_record(path: Path, record: Record) -> None:
    write_json(Path(path), asdict(record))


def save_keras_file(model: keras.Model, path: Path) -> None:
    """``model.save``, made a function of the model alone: the same weights give the same bytes, so
    DVC sees an unchanged model as unchanged (dvc.lock, the remote's deduplication)."""
    with tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / Path(path).name  # Keras wants the .keras suffix the path has
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


def load_keras_file(path: Path, damaged: str) -> keras.Model:
    """A Keras file saved by ``save_keras_file``, or one line naming the file and what is wrong with it, and
    ``damaged``, what to do then. Keras' safe mode stays on: a file holding Python code is refused, never run."""
    check_archive(path, damaged)
    import gzmorph.models.captioner  # noqa: F401  (registers the custom layers before loading)

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error):
            raise GzmorphError(f"{path} holds Python code (a Lambda layer's function), which gzmorph never runs "
                               "from a model file; use models that gzmorph's training saved, which hold none") from None
        raise unloadable(path, error, damaged) from None
    except (TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise unloadable(path, error, damaged) from None


def check_kind(path: Path, model: keras.Model, kind: type[Record], damaged: str) -> None:
    """A classifier's file holds a model with the class and votes outputs, a captioner's the attention
    decoder: another model, the other one's file included, is named here, not deep inside a prediction."""
    from gzmorph.models.captioner import AttentionDecoder

    if kind is CaptionerRecord:
        right = isinstance(model, AttentionDecoder)
    else:
        right = {CLASS_OUTPUT, VOTES_OUTPUT} <= set(getattr(model, "output_names", None) or ())
    if not right:
        raise GzmorphError(f"{path} holds a Keras model, but not gzmorph's {kind_name(kind)}; {damaged}")


def check_archive(path: Path, damaged: str) -> None:
    """A .keras file is a zip archive: one that is empty, cut short or of another kind, or whose entries fail
    their checksums, is named as such, before Keras reports it as a file it cannot find or loads it damaged."""
    with open(path, "rb") as file:
        start = file.read(len(ZIP_START))
    if not start:
        raise GzmorphError(f"{path} is empty; {damaged}")
    if not zipfile.is_zipfile(path):
        what = ("is cut short: a zip archive without its end (an interrupted copy or download)" if start == ZIP_START
                else "is not a Keras file, which is a zip archive")
        raise GzmorphError(f"{path} {what}; {damaged}")
    try:
        with zipfile.ZipFile(path) as archive:
            failed = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise unloadable(path, error, damaged) from None
    if failed:
        raise GzmorphError(f"{path} is damaged: its entry {failed} fails its checksum; {damaged}")


def unloadable(path: Path, error: Exception, damaged: str) -> GzmorphError:
    """Keras' own reason, its first line, shortened: it names what in the file it could not read."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = reason if len(reason) <= 160 else reason[:157] + "..."
    return GzmorphError(f"{path} is not a model gzmorph can load ({reason}); {damaged}")


def load_record(path: Path, kind: type[Record], stale: str) -> Record:
    """The record in ``path``; ``stale`` says what to do when it is not what this version of gzmorph writes."""
    try:
        return pydantic.TypeAdapter(kind).validate_python(read_json(Path(path)))
    except (pydantic.ValidationError, ValueError):
        other = other_kind(path, kind)
        if other:
            raise GzmorphError(f"{path} is a {kind_name(other)}'s record where a {kind_name(kind)}'s belongs: the two "
                               "models' files are mixed up") from None
        raise GzmorphError(f"{path} is not what this version of gzmorph writes; {stale}") from None


def other_kind(path: Path, kind: type[Record]) -> type[Record] | None:
    """The other kind of record ``path`` holds, if it holds one."""
    for other in (ClassifierRecord, CaptionerRecord):
        try:
            if other is not kind and pydantic.TypeAdapter(other).validate_python(read_json(Path(path))):
                return other
        except (pydantic.ValidationError, ValueError):
            pass
    return None


def kind_name(kind: type[Record]) -> str:
    return kind.__name__.removesuffix("Record").lower()
