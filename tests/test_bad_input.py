"""Bad input never crashes with a traceback and never loses a row silently (issue 8).

Every kind of broken image goes through clean_labels and then the split's packing; the stage scripts
end user mistakes in one line and exit 2; a killed split stage reruns to the same bytes; and on the
real Kaggle subset exactly the rows a test breaks are dropped, each under its reason.
"""
from __future__ import annotations

import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gzmorph.data.decoding import load_galaxy
from gzmorph.data.labels import DROP_REASONS, clean_labels, read_table
from gzmorph.data.packing import read_images
from gzmorph.data.splitting import assign_splits, pack_splits
from gzmorph.gz2.rule import Rule
from gzmorph.gz2.tree import ID_COLUMN
from gzmorph.paths import real_gz2
from helpers import (
    REPO,
    ROWS_BY_CLASS,
    assert_accounting,
    by_key,
    dvc_env,
    galaxy_images,
    set_params,
    table_frame,
    tiny_project,
    write_csv,
)

KAGGLE = real_gz2("kaggle")
CROP, SIZE = 207, 64


def dropped_by_reason(report: dict) -> dict[str, int]:
    return {reason: report[f"dropped_{reason}"] for reason in DROP_REASONS if report[f"dropped_{reason}"]}


# ----------------------------------------------------------------------- every kind of image file


def galaxy(side: int = 424, mode: str = "RGB") -> Image.Image:
    """A bright disk on dark sky, in `mode`: enough structure that a wrong conversion would show."""
    images, _ = galaxy_images(max(side / 8, 1), side, peak=230, sky=10)
    return Image.fromarray(images[0]).convert(mode)


def encoded(image: Image.Image, file_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=file_format, **options)
    return buffer.getvalue()


def png_claiming_size(side: int) -> bytes:
    """A PNG header for a `side` x `side` image with no pixels: Pillow refuses it on opening."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def sixteen_bit_png() -> bytes:
    pixels = np.asarray(galaxy(mode="L"), dtype=np.uint16) * 257
    return encoded(Image.fromarray(pixels), "PNG")


def truncated_jpeg() -> bytes:
    return encoded(galaxy(), "JPEG", quality=90)[:2000]


def corrupt_jpeg() -> bytes:
    return encoded(galaxy(), "JPEG", quality=90)[:200] + bytes(range(256)) * 20


# File name -> content, for galaxies whose images must be converted and packed.
USABLE = {
    "jpeg.jpg": lambda: encoded(galaxy(), "JPEG", quality=90),
    "png.png": lambda: encoded(galaxy(), "PNG"),
    "grey.jpg": lambda: encoded(galaxy(mode="L"), "JPEG"),
    "cmyk.jpg": lambda: encoded(galaxy(mode="CMYK"), "JPEG"),
    "sixteen.png": sixteen_bit_png,
    "rgba.png": lambda: encoded(galaxy(mode="RGBA"), "PNG"),
    "palette.png": lambda: encoded(galaxy(mode="P"), "PNG"),
    "tiny.png": lambda: encoded(galaxy(side=3), "PNG"),
    "large.jpg": lambda: encoded(galaxy(side=3000), "JPEG"),
    "upper.JPEG": lambda: encoded(galaxy(), "JPEG"),
}
# File name -> content, for galaxies whose files exist but cannot be decoded.
UNREADABLE = {
    "truncated.jpg": truncated_jpeg,
    "corrupt.jpg": corrupt_jpeg,
    "text.jpg": lambda: b"GalaxyID,Class1.1\n100008,0.38\n",
    "float.png": lambda: encoded(Image.fromarray(np.zeros((32, 32), np.float32)), "TIFF"),
    "huge.png": lambda: png_claiming_size(30000),
    "locked.jpg": lambda: encoded(galaxy(), "JPEG"),
}
LOCKED = "locked.jpg"
FILLERS = 10  # plain JPEG galaxies, so that every split has some


def deny_opening(real_open, locked: Path):
    """Image.open failing for one file as a mode-000 file fails for anyone but root."""
    def open_unless_locked(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)
    return open_unless_locked


def broken_image_folder(folder: Path) -> tuple[pd.DataFrame, dict[str, str], Path]:
    """A solutions table and an image folder holding every kind of file a user may have.

    Returns the table, {GalaxyID: case} for its rows, and the image folder; the LOCKED case's file has mode 000.
    """
    images = folder / "images"
    images.mkdir()
    cases: dict[str, str] = {}
    named = {**USABLE, **UNREADABLE, **{f"filler{i}.jpg": USABLE["jpeg.jpg"] for i in range(FILLERS)}}
    for offset, (case, make) in enumerate(named.items()):
        galaxy_id = str(200000 + offset)
        (images / (galaxy_id + Path(case).suffix)).write_bytes(make())
        cases[galaxy_id] = case
    locked_file(images, cases).chmod(0)
    cases["300001"] = "no image"
    cases["300002"] = "zero bytes"
    (images / "300002.jpg").write_bytes(b"")
    for stray in ("400001.jpg", "400002.png"):  # images nobody lists
        (images / stray).write_bytes(USABLE["jpeg.jpg"]())
    (images / "notes.txt").write_text("not an image")
    (images / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (images / "thumbnails").mkdir()
    rows = [ROWS_BY_CLASS["spiral"]] * len(cases)
    return table_frame(rows, ids=list(cases)), cases, images


def locked_file(images: Path, cases: dict[str, str]) -> Path:
    galaxy_id, = [galaxy_id for galaxy_id, case in cases.items() if case == LOCKED]
    return images / f"{galaxy_id}.jpg"


def test_every_kind_of_image_file_through_clean_labels_and_packing(tmp_path, monkeypatch):
    table, cases, images = broken_image_folder(tmp_path)
    if os.geteuid() == 0:  # root reads a mode-000 file, so make it fail as it does for everyone else
        monkeypatch.setattr(Image, "open", deny_opening(Image.open, locked_file(images, cases)))
    result = clean_labels(read_table(write_csv(tmp_path / "solutions.csv", table)), images, Rule(), 0.03)
    report = result.report

    assert_accounting(report)
    assert report["rows_read"] == len(cases)
    assert dropped_by_reason(report) == {"missing_image": 2, "unreadable_image": len(UNREADABLE)}
    assert (report["images_without_row"], report["empty_image_files"], report["non_image_files"]) == (2, 1, 2)
    kept_cases = {cases[str(galaxy_id)] for galaxy_id in result.labels[ID_COLUMN]}
    assert kept_cases >= set(USABLE) and not kept_cases & set(UNREADABLE)
    unreadable_ids = {galaxy_id for galaxy_id, case in cases.items() if case in UNREADABLE}
    assert {Path(line.split(":")[0]).stem for line in result.unreadable_images} == unreadable_ids

    monkeypatch.undo()
    assignment = assign_splits(result.labels, 0.15, 0.15, seed=0)
    kept, split_report = pack_splits(result.labels, assignment, images, tmp_path / "processed", CROP, SIZE, workers=1)
    assert split_report["problems"] == []  # clean_labels left the split stage nothing to drop
    assert len(kept) == report["rows_kept"]
    assert packed_converted_images(tmp_path / "processed", result.labels, images) == report["rows_kept"]


def packed_converted_images(processed: Path, labels: pd.DataFrame, images: Path) -> int:
    """How many rows the splits packed, after checking each is its galaxy's image as load_galaxy converts it."""
    image_of = labels.set_index(ID_COLUMN)["image"]
    packed_rows = 0
    for split in ("train", "val", "test"):
        ids = pd.read_csv(processed / f"{split}.csv")[ID_COLUMN]
        pixels = read_images(processed / f"{split}_images.npy")
        assert len(pixels) == len(ids)
        for row, galaxy_id in enumerate(ids):
            np.testing.assert_array_equal(pixels[row], load_galaxy(images / image_of[galaxy_id], CROP, SIZE))
            assert pixels[row].max() > 150, "the bright disk should survive every conversion"
        packed_rows += len(ids)
    assert not list(processed.glob("*.partial*")) and not list(processed.glob("*.compacting"))
    return packed_rows


# -------------------------------------------------------------------------- the stage's user errors


def run_stage(script: str, project: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"stages/{script}.py"], cwd=project, env=dvc_env(), capture_output=True,
                          text=True, timeout=timeout)


def stage_project(root: Path, raw_dir: Path, extra_params: dict[str, dict] | None = None) -> Path:
    """The stage scripts and params.yaml in `root`, reading the raw data from `raw_dir`."""
    shutil.copytree(REPO / "stages", root / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    set_params(root / "params.yaml", {"data.raw_dir": str(raw_dir), **by_key(extra_params or {})},
               source=REPO / "params.yaml")
    return root


def kaggle_layout(raw: Path, rows: int = 5, csv_text: str | None = None, image_content: bytes | None = None) -> Path:
    """A raw folder in Kaggle's layout: the solutions CSV (unless csv_text is "") and one image per row."""
    frame = table_frame([ROWS_BY_CLASS[name] for name in list(ROWS_BY_CLASS) * rows][:rows])
    images = raw / "images_training_rev1"
    images.mkdir(parents=True)
    for galaxy_id in frame[ID_COLUMN]:
        (images / f"{galaxy_id}.jpg").write_bytes(image_content or encoded(galaxy(side=32), "JPEG"))
    if csv_text is None:
        write_csv(raw / "training_solutions_rev1.csv", frame)
    elif csv_text:
        (raw / "training_solutions_rev1.csv").write_text(csv_text)
    return raw


USER_ERRORS = {
    "missing csv": (dict(csv_text=""), {}, "training_solutions_rev1.csv: label table not found"),
    "no GalaxyID column": (dict(csv_text="id,Class1.1\n1,0.5\n"), {}, "no GalaxyID column"),
    "params typo": ({}, {"clean_labels": {"sum_tolerence": 0.03}}, "sum_tolerence"),
    "no readable image": (dict(image_content=b"\xff\xd8 not really"), {}, "5 unreadable_image"),
}


@pytest.mark.parametrize("case", USER_ERRORS)
def test_clean_labels_stage_ends_a_user_error_in_one_line_and_exit_2(tmp_path, case):
    layout, extra_params, expected = USER_ERRORS[case]
    raw = kaggle_layout(tmp_path / "raw", **layout)
    done = run_stage("clean_labels", stage_project(tmp_path / "project", raw, extra_params))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    line, = done.stderr.splitlines()
    assert line.startswith("error: ") and expected in line


def test_clean_labels_stage_prints_warnings_dropped_files_and_the_summary(tmp_path):
    raw = kaggle_layout(tmp_path / "raw", rows=10)
    broken = raw / "images_training_rev1" / "100003.jpg"
    broken.write_bytes(truncated_jpeg())
    project = stage_project(tmp_path / "project", raw)
    table = pd.read_csv(raw / "training_solutions_rev1.csv").drop(columns=["Class3.1", "Class3.2"])
    table.to_csv(raw / "training_solutions_rev1.csv", index=False)
    done = run_stage("clean_labels", project)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("warning: ") and "Q3 (bar)" in line for line in lines)
    assert any(line.startswith(f"dropped: {broken}") for line in lines)
    assert "labels: read 10 rows, kept 9, dropped 1" in lines
    assert "dropped: 1 unreadable image" in lines
    assert (project / "metrics" / "data_report.json").is_file()


# ------------------------------------------------------------------------------ an interrupted split


SPLIT_OUTPUTS = ("data/processed", "data/interim/splits.csv", "metrics/split_report.json")


def split_outputs(project: Path) -> dict[str, bytes]:
    files = [path for name in SPLIT_OUTPUTS for path in
             ((project / name).rglob("*") if (project / name).is_dir() else [project / name])]
    return {str(path.relative_to(project)): path.read_bytes() for path in files if path.is_file()}


def remove_split_outputs(project: Path) -> None:
    shutil.rmtree(project / "data" / "processed", ignore_errors=True)
    for name in SPLIT_OUTPUTS[1:]:
        (project / name).unlink(missing_ok=True)


def kill_split_when(project: Path, file_prefix: str, timeout: float = 120) -> set[str]:
    """Start the split stage, SIGKILL it and its workers once a file named `file_prefix`* appears.

    Returns the names left in data/processed.
    """
    processed = project / "data" / "processed"
    stage = subprocess.Popen([sys.executable, "stages/split.py"], cwd=project, env=dvc_env(), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not any(processed.glob(f"{file_prefix}*")):
            assert stage.poll() is None, f"the split stage ended before {file_prefix}* appeared"
            assert time.monotonic() < deadline, f"no {file_prefix}* after {timeout} s"
            time.sleep(0.005)
    finally:
        os.killpg(stage.pid, signal.SIGKILL)
        stage.wait()
    assert stage.returncode == -signal.SIGKILL, "the stage finished before it could be killed"
    return {path.name for path in processed.iterdir()}


@pytest.mark.slow
def test_a_killed_split_stage_reruns_to_the_same_bytes(tmp_path):
    project = tiny_project(tmp_path, n_galaxies=300)
    assert run_stage("clean_labels", project).returncode == 0
    assert run_stage("split", project).returncode == 0
    uninterrupted = split_outputs(project)
    assert len(uninterrupted) == 2 + 2 * 3

    for kill_at in ("train_images", "test_images"):  # while packing the first split, and the last
        remove_split_outputs(project)
        left = kill_split_when(project, kill_at)
        # A half-packed array is never left under its final name.
        assert f"{kill_at}.npy" not in left and f"{kill_at}.npy.partial" in left
        assert run_stage("split", project).returncode == 0
        assert split_outputs(project) == uninterrupted, f"killed at {kill_at}"


# ---------------------------------------------------------------------------------- the real data


def real_data_with_planted_faults(kaggle: Path, raw: Path) -> dict[str, int]:
    """Links to every real image and the real table, plus rows broken on purpose; returns the expected drops."""
    real_images = kaggle / "images_training_rev1"
    images = raw / "images_training_rev1"
    images.mkdir(parents=True)
    for image in real_images.iterdir():
        (images / image.name).symlink_to(image)
    table = pd.read_csv(kaggle / "training_solutions_rev1.csv", dtype=str)
    donor = table.iloc[0]
    donor_bytes = (real_images / f"{donor[ID_COLUMN]}.jpg").read_bytes()

    def planted_row(galaxy_id: str, **cells) -> pd.DataFrame:
        return pd.DataFrame([{**donor.to_dict(), ID_COLUMN: galaxy_id, **cells}])

    (images / "900001.jpg").write_bytes(donor_bytes[:len(donor_bytes) // 2])       # truncated
    (images / "900002.jpg").write_bytes(b"")                                       # zero bytes
    (images / "900003.jpg").write_bytes(donor_bytes[:300] + bytes(range(256)) * 8)  # corrupt
    (images / "900004.jpg").symlink_to(real_images / f"{donor[ID_COLUMN]}.jpg")     # good image, NA vote
    conflicting = table.iloc[[1]].assign(**{"Class6.1": "0.5", "Class6.2": "0.5"})
    planted = [planted_row("900001"), planted_row("900002"), planted_row("900003"),
               planted_row("900004", **{"Class7.2": "NA"}), conflicting, planted_row("900005")]  # no image
    pd.concat([table, *planted], ignore_index=True).to_csv(raw / "training_solutions_rev1.csv", index=False)
    return {"unreadable_image": 2, "missing_image": 2, "missing_value": 1, "duplicate_conflict": 2}


@pytest.mark.skipif(not KAGGLE.is_dir(), reason=f"{KAGGLE} (the real Kaggle subset) is not here")
def test_real_data_drops_exactly_the_planted_faults(tmp_path):
    raw = tmp_path / "raw"
    expected = real_data_with_planted_faults(KAGGLE, raw)
    table = read_table(raw / "training_solutions_rev1.csv")
    result = clean_labels(table, raw / "images_training_rev1", Rule(), 0.03)
    report = result.report
    assert_accounting(report)
    real_rows = len(pd.read_csv(KAGGLE / "training_solutions_rev1.csv"))
    assert report["rows_read"] == real_rows + 6
    assert dropped_by_reason(report) == expected
    assert report["rows_kept"] == real_rows - 1  # the real row given a conflicting twin goes too
    assert report["empty_image_files"] == 1 and report["images_without_row"] == 0
    assert sorted(Path(line.split(":")[0]).name for line in result.unreadable_images) == ["900001.jpg",
                                                                                           "900003.jpg"]
