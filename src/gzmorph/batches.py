"""Keras batches read from a packed image array."""
from __future__ import annotations

import mmap

import keras
import numpy as np

from gzmorph.packing import row_window


class Batches(keras.utils.PyDataset):
    """Batches read from the memory map, so training memory does not grow with the data set."""

    def __init__(self, images, targets: dict, batch_size: int, seed: int | None = None, weights=None):
        super().__init__()
        self.images, self.targets, self.batch_size = images, targets, batch_size
        self.weights = weights
        self.rng = np.random.default_rng(seed) if seed is not None else None
        self.order = np.arange(len(images))
        self.on_epoch_end()

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index: int):
        rows = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        targets = {name: values[rows] for name, values in self.targets.items()}
        batch = (read_rows(self.images, rows), targets)
        if self.weights is not None:
            batch += ({name: self.weights[name][rows] for name in self.weights},)
        return batch

    def on_epoch_end(self):
        if self.rng is not None:
            self.rng.shuffle(self.order)


def read_rows(images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``images[rows]``, read from a memory map of the file opened for this read alone.

    A map kept open keeps every page it has read resident, so the process would grow to the size of
    the file over an epoch; a map opened per batch holds one batch's pages (the kernel still caches them).
    """
    if not (isinstance(images, np.memmap) and isinstance(images.base, mmap.mmap)):
        return np.asarray(images[rows])  # in memory already, or a view of a map (whose offset is unknown)
    window = row_window(images.filename, images.offset, images.shape, 0, len(images), mode="r")
    return np.asarray(window[rows])  # a copy: the map closes with ``window``
