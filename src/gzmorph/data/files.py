"""The image files a user names on the command line, decoded batch by batch as training saw them, and a
labelled folder in Kaggle's layout.

Files, folders and glob patterns are accepted. A folder contributes its JPEG and PNG files (not its
subfolders'); a file named explicitly is always tried, so a wrong one is reported rather than ignored.
"""
from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import islice
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gzmorph.data.labels import IMAGE_SUFFIXES
from gzmorph.data.packing import decode_in_order, decode_or_reason
from gzmorph.errors import GzmorphError

GLOB_CHARACTERS = set("*?[")
# Threads decode the next batch while TensorFlow works on this one (Pillow releases the GIL); unlike
# worker processes they cost nothing to start. Decoding (~0.6 ms an image) is not the bottleneck.
DECODE_THREADS = 2


class DecodedFiles(NamedTuple):
    paths: list[Path]  # the files that decoded, in input order
    images: np.ndarray  # (len(paths), pixels, pixels, 3) uint8
    problems: list[str]  # one line per file that did not, naming it


def find_images(patterns: list[str]) -> list[Path]:
    """Every file the patterns name, in the order given (sorted within a folder or glob), each once."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        matches = expand(pattern)
        if not matches:
            raise GzmorphError(f"{pattern}: no such file, or no JPEG or PNG in it; name image files, "
                               "folders of them, or glob patterns")
        found.update(dict.fromkeys(matches))
    return list(found)


def expand(pattern: str) -> list[Path]:
    path = Path(pattern)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if path.is_file():
        return [path]
    if GLOB_CHARACTERS & set(pattern):
        return sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    return []


def decoded_batches(paths: list[Path], crop: int, pixels: int, batch_size: int) -> Iterator[DecodedFiles]:
    """``paths`` decoded (centre crop, resize) in batches; the next batch decodes while this one is used."""
    check_batch_size(batch_size)
    decode = partial(decode_or_reason, crop=crop, pixels=pixels)
    with ThreadPool(DECODE_THREADS) as pool:
        results = decode_in_order(pool, decode, paths, batch_size, DECODE_THREADS)
        for start in range(0, len(paths), batch_size):
            batch_paths = paths[start:start + batch_size]
            yield collect(batch_paths, islice(results, len(batch_paths)), pixels)


def collect(paths: list[Path], results: Iterable[np.ndarray | str], pixels: int) -> DecodedFiles:
    """The batch of the images that decoded; a result that is a string says why its file did not."""
    kept, images, problems = [], [], []
    for path, result in zip(paths, results):
        if isinstance(result, str):
            problems.append(result)
        else:
            images.append(result)
            kept.append(path)
    stacked = np.stack(images) if images else np.zeros((0, pixels, pixels, 3), np.uint8)
    return DecodedFiles(kept, stacked, problems)


def check_batch_size(batch_size: int) -> int:
    if batch_size < 1:
        raise GzmorphError(f"the batch size must be at least 1, got {batch_size}")
    return batch_size


def kaggle_layout(data_dir: Path, images: str, solutions: str) -> tuple[Path, Path]:
    """The image folder and the solutions table of ``data_dir``, a folder in Kaggle's layout; a wrong folder
    is named with the layout it needs."""
    image_dir, table_file = data_dir / images, data_dir / solutions
    if not data_dir.is_dir():
        raise GzmorphError(f"{data_dir}: no such folder; --data takes a folder holding {images}/ and {solutions}")
    for path in (image_dir, table_file):
        if not path.exists():
            raise GzmorphError(f"{path} not found; --data takes a folder in Kaggle's layout "
                               f"({images}/<GalaxyID>.jpg and {solutions})")
    return image_dir, table_file
