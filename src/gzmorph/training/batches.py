"""Keras batches read from a packed image array, in an order fixed by the seed and the epoch."""
from __future__ import annotations

import mmap

import keras
import numpy as np

from gzmorph.data.packing import row_window


class EpochOrder(keras.utils.PyDataset):
    """Batches of ``count`` examples in an order fixed by the seed and the epoch.

    With a seed, each epoch's order is a permutation drawn from (seed, epoch) alone, so it does not
    depend on how often Keras calls the dataset's hooks, and a resumed training sees the batches the
    uninterrupted one would have; gzmorph.training.seeding.SeedEachEpoch tells the batches which epoch starts.
    """

    def __init__(self, count: int, batch_size: int, seed: int | None = None):
        super().__init__()
        self.count, self.batch_size, self.seed = count, batch_size, seed
        self.start_epoch(0)

    def __len__(self) -> int:
        return -(-self.count // self.batch_size)

    def start_epoch(self, epoch: int) -> None:
        # A new array, never shuffled in place: Keras may still be reading the last epoch's batches.
        if self.seed is None:
            self.order = np.arange(self.count)
        else:
            self.order = np.random.default_rng([self.seed, epoch]).permutation(self.count)

    def rows(self, index: int) -> np.ndarray:
        """The rows of batch ``index``, ascending (a memory map reads forward)."""
        return np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])


class Batches(EpochOrder):
    """The classifier's (images, targets[, weights]) batches, read from the memory map so that training
    memory does not grow with the data set."""

    def __init__(self, images, targets: dict, batch_size: int, seed: int | None = None, weights=None):
        self.images, self.targets, self.weights = images, targets, weights
        super().__init__(len(images), batch_size, seed)

    def __getitem__(self, index: int):
        rows = self.rows(index)
        targets = {name: values[rows] for name, values in self.targets.items()}
        batch = (read_rows(self.images, rows), targets)
        if self.weights is not None:
            batch += ({name: self.weights[name][rows] for name in self.weights},)
        return batch


def read_rows(images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``images[rows]``, read from a memory map of the file opened for this read alone.

    A map kept open keeps every page it has read resident, so the process would grow to the size of
    the file over an epoch; a map opened per batch holds one batch's pages (the kernel still caches them).
    """
    if not (isinstance(images, np.memmap) and isinstance(images.base, mmap.mmap)):
        return np.asarray(images[rows])  # in memory already, or a view of a map (whose offset is unknown)
    window = row_window(images.filename, images.offset, images.shape, 0, len(images), mode="r")
    return np.asarray(window[rows])  # a copy: the map closes with ``window``
