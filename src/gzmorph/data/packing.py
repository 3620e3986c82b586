"""Pack many galaxy images into one .npy array: decoded in parallel, written in bounded memory.

One (n, pixels, pixels, 3) uint8 file per split keeps DVC tracking a few large files instead of tens of
thousands of loose ones, and lets training read it through a memory map.

Memory stays bounded because rows are written through a memory-mapped window (WINDOW_BYTES)
that moves along the file, and at most two windows' worth of decoded images wait in the parent. A
single memmap over the whole file would be simpler, but every page it touches stays mapped, so the
process's resident memory would grow to the size of the file.
"""
from __future__ import annotations

import math
import multiprocessing
import os
from functools import partial
from multiprocessing.pool import Pool
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from gzmorph.data.decoding import check_geometry, decode_in_order, decode_or_reason
from gzmorph.errors import GzmorphError

WINDOW_BYTES = 32 * 1024 * 1024
# Spawned workers start clean: forking a parent that has loaded TensorFlow's threads can deadlock.
START_METHOD = "spawn"


class Packed(NamedTuple):
    usable: np.ndarray  # bool per input path: False where the file could not be used
    problems: list[tuple[int, str]]  # (index into paths, one-line reason naming the file)


def pack_images(paths: list[Path], out_file: Path, crop: int, pixels: int, workers: int) -> Packed:
    """Decode `paths` in order into `out_file`, shape (len(paths), pixels, pixels, 3) uint8.

    An unusable image's row is left zero and marked False in `usable`; drop those rows with
    `drop_unusable_rows` once the caller has counted them. The file is byte-identical across runs.
    """
    # Checked once here, before any file is made, rather than once per image in every worker.
    check_geometry(crop, pixels)
    check_workers(workers)
    out_file = Path(out_file)
    create_array(out_file, (len(paths), pixels, pixels, 3))
    usable = np.zeros(len(paths), dtype=bool)
    problems: list[tuple[int, str]] = []
    decode = partial(decode_or_reason, crop=crop, pixels=pixels)
    with decoding_pool(workers) as pool, RowWriter(out_file) as writer:
        results = decode_in_order(pool, decode, paths, batch=writer.window_rows, workers=workers)
        progress = tqdm(results, total=len(paths), desc=f"packing {out_file.name}", unit="img")
        for index, result in enumerate(progress):
            if isinstance(result, str):
                problems.append((index, result))
            else:
                writer.write(index, result)
                usable[index] = True
    return Packed(usable, problems)


def check_workers(workers: int) -> None:
    if workers < 1:
        raise GzmorphError(f"the number of image decoding workers must be at least 1, got {workers}")


def decoding_pool(workers: int) -> Pool:
    return multiprocessing.get_context(START_METHOD).Pool(workers)


def create_array(out_file: Path, shape: tuple[int, ...]) -> None:
    """Write the .npy header and size the file; unwritten rows read as zero (a sparse file)."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    array = np.lib.format.open_memmap(out_file, mode="w+", dtype=np.uint8, shape=shape)
    del array  # closes the map; rows are written through RowWriter's windows


def read_images(file: Path) -> np.ndarray:
    """The packed array, memory-mapped read-only: rows are read from disk as they are used."""
    if not Path(file).is_file():
        raise GzmorphError(f"{file}: packed images not found; run the split stage first (dvc repro split)")
    return np.load(file, mmap_mode="r")


class RowWriter:
    """Writes rows of an existing .npy file through a memmap window that moves along the file."""

    def __init__(self, file: Path):
        self.file = file
        self.header_bytes, self.shape = array_layout(file)
        self.window_rows = rows_per_window(self.shape)
        self.window: np.memmap | None = None
        self.window_start = 0

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close_window()

    def write(self, index: int, row: np.ndarray) -> None:
        if self.window is None or not self.window_start <= index < self.window_start + len(self.window):
            self.open_window(index)
        self.window[index - self.window_start] = row

    def open_window(self, start: int) -> None:
        self.close_window()
        stop = min(start + self.window_rows, self.shape[0])
        self.window = row_window(self.file, self.header_bytes, self.shape, start, stop, mode="r+")
        self.window_start = start

    def close_window(self) -> None:
        if self.window is not None:
            self.window.flush()
            self.window = None


def drop_unusable_rows(file: Path, usable: np.ndarray) -> None:
    """Rewrite `file` keeping only rows where `usable` is True, streaming window by window."""
    if usable.all():
        return
    file = Path(file)
    header_bytes, shape = array_layout(file)
    if len(usable) != shape[0]:
        raise ValueError(f"{file} has {shape[0]} rows but the mask has {len(usable)}")
    kept_file = file.with_name(file.name + ".compacting")
    create_array(kept_file, (int(usable.sum()),) + shape[1:])
    window_rows = rows_per_window(shape)
    with RowWriter(kept_file) as writer:
        next_row = 0
        for start in range(0, shape[0], window_rows):
            stop = min(start + window_rows, shape[0])
            rows = row_window(file, header_bytes, shape, start, stop, mode="r")
            for row in rows[usable[start:stop]]:
                writer.write(next_row, row)
                next_row += 1
            del rows  # unmap before mapping the next window, so one window at a time is resident
    os.replace(kept_file, file)


def array_layout(file: Path) -> tuple[int, tuple[int, ...]]:
    """Header length in bytes and array shape of a packed .npy file (mapping it touches no rows)."""
    array = np.load(file, mmap_mode="r")
    if array.dtype != np.uint8 or array.ndim != 4:
        raise GzmorphError(f"{file}: not a packed image array (found {array.dtype} {array.shape})")
    return array.offset, array.shape


def rows_per_window(shape: tuple[int, ...]) -> int:
    return max(1, WINDOW_BYTES // math.prod(shape[1:]))


def row_window(file: Path, header_bytes: int, shape: tuple[int, ...], start: int, stop: int, mode: str) -> np.memmap:
    row_bytes = math.prod(shape[1:])
    return np.memmap(file, dtype=np.uint8, mode=mode, offset=header_bytes + start * row_bytes,
                     shape=(stop - start,) + tuple(shape[1:]))
