"""``gzmorph evaluate --data``: score the trained models on any labelled folder in Kaggle's layout.

The folder goes through the pipeline's own steps (clean_labels' rules, the split stage's packing and
table, the evaluate stage's scoring), so the pipeline's test split, laid out as a folder, scores exactly
what metrics/classifier.json and metrics/captioner.json say.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from gzmorph.data.caption_files import references_for
from gzmorph.data.labels import clean_labels, read_table, report_lines
from gzmorph.data.packed_splits import Split, load_split
from gzmorph.data.splitting import pack_split
from gzmorph.errors import GzmorphError
from gzmorph.inference.evaluation import score_models
from gzmorph.inference.predict import Models
from gzmorph.params import Params

SPLIT_NAME = "test"  # the packed folder is read back as the evaluate stage reads its split

Report = Callable[[str], None]


def evaluate_folder(data_dir: Path, models: Models, params: Params, report: Report = print) -> dict:
    """{"classifier": metrics, "captioner": metrics} for the labelled galaxies in ``data_dir``."""
    image_dir, table_file = folder_layout(Path(data_dir), params)
    labels = clean_folder_labels(table_file, image_dir, params, report)
    with tempfile.TemporaryDirectory(prefix="gzmorph-evaluate-") as work_dir:
        split = pack_folder(labels, image_dir, Path(work_dir), models, params.split.workers, report)
        references = references_for(split.table, params.build_captions)
        scores = score_models(models.classifier, models.captioner, split, references, params)
    return {"classifier": scores.classifier, "captioner": scores.captioner}


def folder_layout(data_dir: Path, params: Params) -> tuple[Path, Path]:
    image_dir, table_file = data_dir / params.data.images, data_dir / params.data.solutions
    if not data_dir.is_dir():
        raise GzmorphError(f"{data_dir}: no such folder; --data takes a folder holding {params.data.images}/ "
                           f"and {params.data.solutions}")
    for path in (image_dir, table_file):
        if not path.exists():
            raise GzmorphError(f"{path} not found; --data takes a folder in Kaggle's layout "
                               f"({params.data.images}/<GalaxyID>.jpg and {params.data.solutions})")
    return image_dir, table_file


def clean_folder_labels(table_file: Path, image_dir: Path, params: Params, report: Report):
    """The clean_labels stage's table, its warnings and accounting of dropped rows reported."""
    rules = params.clean_labels
    result = clean_labels(read_table(table_file), image_dir, rules.rule, rules.sum_tolerance)
    for line in report_lines(result):  # the same lines as the clean_labels stage prints
        report(line)
    return result.labels


def pack_folder(labels, image_dir: Path, work_dir: Path, models: Models, workers: int, report: Report) -> Split:
    """The folder packed as the split stage packs a split, then read back by load_split."""
    _, packed = pack_split(labels, image_dir, work_dir, SPLIT_NAME, models.crop, models.pixels, workers)
    for _, problem in packed.problems:
        report(f"dropped: {problem}")
    if not packed.usable.any():
        raise GzmorphError(f"{image_dir}: none of the {len(labels)} labelled images could be read")
    return load_split(work_dir, SPLIT_NAME)
