"""Training on several devices or machines with tf.distribute: the strategy, its batches, its checkpoints.

``train_classifier.strategy`` picks one of TensorFlow's strategies: ``default`` (one device),
``mirrored`` (every local GPU, or every logical CPU device when there is no GPU) or ``multi_worker``
(the machines listed in TF_CONFIG). ``batch_size`` is per replica, so a step sees
``batch_size * num_replicas_in_sync`` images, split evenly across the replicas.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import get_args

import keras
import numpy as np
import tensorflow as tf

from gzmorph.params import Strategy
from gzmorph.training.batches import Batches, read_rows

STRATEGIES = get_args(Strategy)


class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """TensorFlow's multi-worker strategy, accepting the two reductions Keras 3's fit asks of it that
    TensorFlow rejects across workers (keras-team/keras#20585, tensorflow/tensorflow#72388)."""

    def reduce(self, reduce_op, value, axis):
        if not isinstance(value, tf.distribute.DistributedValues):
            # A whole (x, y, weights) batch, which Keras reduces only to learn its shapes before it builds
            # the model: this worker's own slice tells them, with no collective over uint8 images of
            # lengths that may differ by worker (a last, partial batch).
            return tf.nest.map_structure(lambda v: self.experimental_local_results(v)[0], value)
        if self.experimental_local_results(value)[0].shape.rank == 0:
            axis = None  # a scalar metric, which Keras asks to reduce "along axis 0"
        return super().reduce(reduce_op, value, axis)


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The named strategy; call it before any other TensorFlow work, as multi-worker must set up its
    collectives before TensorFlow starts."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy([d.name for d in local_devices()])
    if name == "multi_worker":
        return MultiWorkerMirroredStrategy()
    if name == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")


def local_devices() -> list:
    """Every GPU; without one, every logical CPU device (one, unless a test or benchmark split the CPU)."""
    return tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy) -> int:
    return per_replica * strategy.num_replicas_in_sync


def batches_for(strategy: str, images, targets: dict, batch_size: int, seed: int | None = None, weights=None):
    """Two feeders, for two reasons. The default strategy keeps the PyDataset: its order is a function of
    (seed, epoch), so a run resumed from a backup trains on the batches the uninterrupted run would have
    and ends with its very weights, which tf.data's shuffle (its state is not in the backup) cannot give.
    The other strategies need tf.data, which tf.distribute splits across replicas and shards across
    workers: under MultiWorkerMirroredStrategy a PyDataset's batches come out of step between the workers
    and the collectives fail."""
    if strategy == "default":
        return Batches(images, targets, batch_size, seed=seed, weights=weights)
    return stream(images, targets, batch_size, seed=seed, weights=weights)


def stream(images, targets: dict, batch_size: int, seed: int | None = None, weights=None) -> tf.data.Dataset:
    """(images, targets[, weights]) batches gathered from the memory-mapped ``images`` as they are needed.

    Only row numbers are shuffled (8 bytes an image); the pixels of a batch are read when tf.data asks for
    it, a few batches ahead of training, so memory does not grow with the data set. Sharding is by data:
    every worker reads each global batch and keeps its own replicas' slice of it, so the workers step
    together even through a last, partial batch.
    """
    columns = (targets,) if weights is None else (targets, weights)
    arrays = tf.nest.flatten(columns)
    specs = [tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in [images, *arrays]]

    def gather(rows):
        rows = np.sort(rows)  # ascending rows read the memory map forward
        return [read_rows(images, rows), *(a[rows] for a in arrays)]

    def load(rows):
        tensors = tf.numpy_function(gather, [rows], [s.dtype for s in specs], stateful=False)
        tensors = [tf.ensure_shape(t, s.shape) for t, s in zip(tensors, specs)]
        return (tensors[0], *tf.nest.pack_sequence_as(columns, tensors[1:]))

    rows = tf.data.Dataset.range(len(images))
    if seed is not None:
        rows = rows.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    batches = rows.batch(batch_size).map(load).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return batches.with_options(options)


def backup_and_restore(root: str | Path, strategy: tf.distribute.Strategy, *run) -> keras.callbacks.BackupAndRestore:
    """Saves the training state every epoch, so that a run stopped part-way resumes where it stopped.

    The folder is named by ``run`` (the params, the seed, the galaxies trained and validated on): a
    changed run starts afresh instead of resuming another's weights. Each worker keeps its own copy, so
    no shared disk is needed. Keras deletes it once training ends normally.
    """
    key = hashlib.sha256(repr(run).encode()).hexdigest()[:16]
    worker = getattr(strategy.cluster_resolver, "task_id", None) or 0
    return keras.callbacks.BackupAndRestore(str(Path(root) / f"{key}-worker-{worker}"))
