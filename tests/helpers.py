"""What several test modules share: the tiny DVC project and the commands that drive it (on
gzmorph.devtools.project), small label tables and images for the cleaning tests, and a tiny learnable split
for the training tests."""
from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from gzmorph.data.labels import DROP_REASONS
from gzmorph.data.packed_splits import Split
from gzmorph.devtools import project
from gzmorph.devtools.project import REPO, commit, stages  # noqa: F401  (commit: for the tests)
from gzmorph.devtools.project import environment as dvc_env  # noqa: F401  (the tests' name for it)
from gzmorph.gz2.captions import CaptionConfig
from gzmorph.gz2.rule import CLASSES, Rule
from gzmorph.gz2.tree import ID_COLUMN, QUESTION_BY_NUMBER, VOTE_COLUMNS
from gzmorph.params import set_params  # noqa: F401  (for the tests that set params)

SAMPLE = REPO / "data" / "sample"
STAGES = stages()
# length_penalty 1: a one-epoch decoder's beam otherwise ends every caption at once, and tests comparing
# captions would compare empty strings.
TINY = {"train_classifier": {"epochs": 1, "width": 8}, "train_captioner": {"epochs": 1, "units": 32},
        "split": {"workers": 1}, "evaluate": {"examples_per_class": 1}, "inference": {"length_penalty": 1.0}}
UP_TO_DATE = "Data and pipelines are up to date."


def run(args, cwd, ok: bool = True) -> str:
    """stdout + stderr of a command; ``ok`` says whether it must succeed or must fail."""
    done = project.run(args, cwd, ok=ok)
    return done.stdout + done.stderr


def stages_run(log: str) -> set[str]:
    """Stages a `dvc repro`/`dvc exp run` log shows running or restoring from the run cache."""
    return {s for s in STAGES if f"Running stage '{s}'" in log or f"Stage '{s}' is cached" in log}


def tiny_project(root: Path, n_galaxies: int = 160) -> Path:
    """A git + DVC repository holding the pipeline and the first galaxies of the sample, tiny params."""
    table = pd.read_csv(SAMPLE / "training_solutions_rev1.csv", dtype=str).head(n_galaxies)
    images = root / "data" / "sample" / "images_training_rev1"
    images.mkdir(parents=True)
    table.to_csv(root / "data" / "sample" / "training_solutions_rev1.csv", index=False)
    for galaxy in table["GalaxyID"]:
        shutil.copy(SAMPLE / "images_training_rev1" / f"{galaxy}.jpg", images)
    return project.copy_project(root, by_key(TINY), message="tiny")


def by_key(sections: dict[str, dict]) -> dict:
    """{section: {name: value}} as {"section.name": value}."""
    return {f"{section}.{name}": value for section, values in sections.items() for name, value in values.items()}


def copy_workspace(source: Path, root: Path) -> Path:
    """Workspace, git history and DVC cache; .dvc/tmp holds locks and queue state of the source only."""
    shutil.copytree(source, root, symlinks=True, dirs_exist_ok=True,
                    ignore=lambda folder, names: ["tmp"] if Path(folder).name == ".dvc" else [])
    return root


TOLERANCE = 0.03
KAGGLE_SUBSET = [c for c in VOTE_COLUMNS if c.split(".")[0] in {"Class1", "Class2", "Class6", "Class7", "Class8"}]


def tree_row(smooth=0.1, disk=0.85, edge_on=0.1, arms=0.9, odd=0.1, merger=0.0) -> dict[str, float]:
    """A full, tree-consistent row of the 37 Kaggle columns from the conditional answers that matter."""
    face = disk * (1 - edge_on)
    answers = {
        1: (smooth, disk, 1 - smooth - disk), 2: (disk * edge_on, face), 3: (0, face),
        4: (face * arms, face * (1 - arms)), 5: (face, 0, 0, 0), 6: (odd, 1 - odd), 7: (smooth, 0, 0),
        8: (0, 0, 0, 0, 0, odd * merger, odd * (1 - merger)), 9: (disk * edge_on, 0, 0),
        10: (face * arms, 0, 0), 11: (face * arms, 0, 0, 0, 0, 0),
    }
    return {column: float(value) for number, values in answers.items()
            for column, value in zip(QUESTION_BY_NUMBER[number].columns, values)}


ROWS_BY_CLASS = {
    "elliptical": tree_row(smooth=0.8, disk=0.15),
    "spiral": tree_row(smooth=0.1, disk=0.85, edge_on=0.1, arms=0.9),
    "edge-on": tree_row(smooth=0.05, disk=0.9, edge_on=0.9),
    "merger": tree_row(smooth=0.5, disk=0.45, odd=0.7, merger=0.8),
    "ambiguous": tree_row(smooth=0.4, disk=0.4),
}


def table_frame(rows: list[dict], ids=None, columns=VOTE_COLUMNS) -> pd.DataFrame:
    ids = list(range(100001, 100001 + len(rows))) if ids is None else ids
    frame = pd.DataFrame(rows)
    frame.insert(0, ID_COLUMN, ids)
    return frame[[ID_COLUMN, *[c for c in frame.columns if c != ID_COLUMN and (c in columns or
                                                                               c not in VOTE_COLUMNS)]]]


def write_csv(path: Path, frame: pd.DataFrame, encoding="utf-8", bom=b"", **to_csv) -> Path:
    path.write_bytes(bom + frame.to_csv(index=False, **to_csv).encode(encoding))
    return path


def tiny_jpeg() -> bytes:
    """A real 8x8 JPEG: clean_labels decodes every kept row's image, so placeholders would be dropped."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "grey").save(buffer, format="JPEG")
    return buffer.getvalue()


TINY_JPEG = tiny_jpeg()


def touch_images(image_dir: Path, ids, suffix=".jpg", content=TINY_JPEG) -> Path:
    image_dir.mkdir(exist_ok=True)
    for galaxy in ids:
        (image_dir / f"{galaxy}{suffix}").write_bytes(content)
    return image_dir


def assert_accounting(report: dict) -> None:
    assert report["rows_read"] == report["rows_kept"] + report["rows_dropped"]
    assert report["rows_dropped"] == sum(report[f"dropped_{reason}"] for reason in DROP_REASONS)
    assert report["rows_kept"] == sum(report[f"class_{name}_count"] for name in CLASSES)


def galaxy_images(radius, shape, *, peak=255, sky=0, centres=None, profile: str = "disk"):
    """The tests' one maker of fake galaxies: a bright disk (or a Gaussian of that radius) on a dark sky,
    one (height, width, 3) uint8 image per radius, and the disks' masks.

    ``shape`` is a side or (height, width); ``peak`` a level, or one per image; ``sky`` a level or a noise
    array of the images' shape; ``centres`` (n, 2) rows and columns, by default the middle.
    """
    radius = np.atleast_1d(np.asarray(radius, dtype=float))
    height, width = (shape, shape) if np.isscalar(shape) else shape
    count = len(radius)
    if centres is None:
        centres = np.tile([(height - 1) / 2, (width - 1) / 2], (count, 1))
    centres = np.asarray(centres, dtype=float)
    rows, cols = np.mgrid[:height, :width]
    squared = (rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2
    masks = squared < radius[:, None, None] ** 2
    peaks = np.broadcast_to(np.asarray(peak, dtype=float), (count,))
    if profile == "gaussian":
        profile_of = np.exp(-squared / radius[:, None, None] ** 2)[..., None]
        return (profile_of * peaks[:, None, None, None] * np.ones(3)).astype("uint8"), masks
    images = np.broadcast_to(np.asarray(sky), (count, height, width, 3)).astype("uint8")
    for image, mask, level in zip(images, masks, peaks):
        image[mask] = level
    return images, masks


def tiny_split(n, seed):
    """Bright centred blobs whose size gives the class: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 2, n)
    images, _ = galaxy_images(np.where(classes == 0, 2.5, 6.0), 16, profile="gaussian")
    votes = np.where(classes[:, None] == 0, 0.9, 0.1) * np.ones((n, 3))
    table = pd.DataFrame({"GalaxyID": np.arange(n), "class": [CLASSES[c] for c in classes],
                          "Class1.1": votes[:, 0], "Class1.2": 1 - votes[:, 0], "Class1.3": 0.0})
    return Split(images, table)


def logged(curves: Path, split: str, metric: str) -> pd.DataFrame:
    """A curve DVCLive wrote: columns ``step`` and ``metric`` (split ``train``, or ``eval`` for validation)."""
    return pd.read_csv(curves / "plots" / "metrics" / split / f"{metric}.tsv", sep="\t")


def curve_files(curves: Path) -> dict[str, str]:
    """Every file of a DVCLive folder, by its path within it: what two runs must agree on."""
    return {str(f.relative_to(curves)): f.read_text() for f in sorted(curves.rglob("*")) if f.is_file()}


def headline_command() -> str:
    """The README's `dvc exp show` line that prints only the headline figures."""
    return next(line.strip() for line in (REPO / "README.md").read_text().splitlines()
                if line.startswith("dvc exp show --drop"))


def classifier_record(pixels=8, **changes):
    """A classifier's record as training writes one, for models the tests build themselves."""
    from gzmorph.models.classifier import ClassDecision
    from gzmorph.models.files import ClassifierRecord

    record = ClassifierRecord(ClassDecision("softmax", [1.0] * 5, ["Class1.1"]), {"softmax": 1.5},
                              [0.4] + [None] * 36, pixels=pixels, crop=207, trained_on="data/sample",
                              synthetic=True, rule=Rule(), tta=True)
    return replace(record, **changes)


def captioner_record(vocab=("a", "b"), max_len=3):
    from gzmorph.models.files import CaptionerRecord

    return CaptionerRecord(max_len, "a", list(vocab), CaptionConfig(), beam_width=5, length_penalty=0.7)
