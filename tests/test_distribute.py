"""tf.distribute: the tf.data stream over the memory map, MirroredStrategy on two logical CPU devices,
MultiWorkerMirroredStrategy with two worker processes on 127.0.0.1, and resuming a stopped training.

Logical devices and multi-worker collectives must be set up before TensorFlow starts, so those runs
happen in fresh Python processes (TRAIN below), on a tiny packed set written by the test."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from gzmorph.data.packed_splits import split_paths
from gzmorph.params import Augmentation, ClassifierParams
from gzmorph.training.classifier import fit_classifier
from gzmorph.training.distribute import stream
from helpers import curve_files, logged, tiny_split

TIMEOUT_S = 240
# Trains the packed set in argv[1] on argv[2] logical CPU devices, once per (strategy, batch size per
# replica) in argv[3]; prints the histories, each with the strategy's replica count, as one JSON line.
TRAIN = """
import json, sys
from pathlib import Path
import tensorflow as tf
folder, devices, runs = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
from gzmorph.training import classifier as classifier_training
from gzmorph.data.packed_splits import load_split
from gzmorph.params import Augmentation, ClassifierParams
made = []
make_strategy = classifier_training.make_strategy
classifier_training.make_strategy = lambda name: made.append(make_strategy(name)) or made[-1]
histories = {}
for strategy, batch_size in runs:
    # float32: bfloat16 rounding would add its own differences to the strategies' (order of sums, BatchNorm)
    params = ClassifierParams(width=4, epochs=1, batch_size=batch_size, learning_rate=0.01, strategy=strategy,
                              checkpoint_dir=str(folder / "ckpt"),
                              augment=Augmentation(rotate=False, shift=0.0, zoom=0.0),
                              precision="float32")
    _, history = classifier_training.fit_classifier(load_split(folder, "train"), load_split(folder, "val"),
                                                    params, 0, folder / f"curves-{strategy}-{sys.argv[4]}")
    histories[strategy] = {**history, "replicas": made[-1].num_replicas_in_sync}
print("HISTORIES " + json.dumps(histories))
"""


def packed(folder: Path, n_train: int = 64, n_val: int = 32) -> Path:
    """tiny_split's blobs as the split stage leaves them: a .npy array per split and its table."""
    for name, n, seed in (("train", n_train, 0), ("val", n_val, 1)):
        split = tiny_split(n, seed)
        images_file, table_file = split_paths(folder, name)
        np.save(images_file, split.images)
        split.table.to_csv(table_file, index=False)
    return folder


def train_command(folder: Path, devices: int, runs: list, tag: str = "0") -> list[str]:
    return [sys.executable, "-c", TRAIN, str(folder), str(devices), json.dumps(runs), tag]


def histories(output: str) -> dict:
    return json.loads(output.split("HISTORIES ")[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rows_of(batch_images) -> list[int]:
    return [int(row) for row in np.asarray(batch_images)[:, 0, 0, 0]]


def test_stream_reads_every_row_once_an_epoch_in_a_seeded_order(tmp_path):
    n = 23
    images_file = tmp_path / "images.npy"
    np.save(images_file, np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8))
    images = np.load(images_file, mmap_mode="r")
    targets, weights = {"label": np.arange(n) * 10}, {"label": np.arange(n) / 10}
    data = stream(images, targets, batch_size=5, seed=3, weights=weights)
    assert len(data) == 5
    epochs = [list(data) for _ in range(2)]
    for batches in epochs:
        rows = [r for x, _, _ in batches for r in rows_of(x)]
        assert sorted(rows) == list(range(n))
        for x, y, w in batches:  # targets and weights travel with their images
            assert list(y["label"].numpy()) == [10 * r for r in rows_of(x)]
            assert np.allclose(w["label"].numpy(), np.array(rows_of(x)) / 10)
    orders = [[rows_of(x) for x, _, _ in batches] for batches in epochs]
    assert orders[0] != orders[1]  # reshuffled every epoch
    again = stream(images, targets, batch_size=5, seed=3, weights=weights)
    assert [rows_of(x) for x, _, _ in again] == orders[0]  # and the same order for the same seed
    in_order = stream(images, targets, batch_size=5)
    assert [r for x, _ in in_order for r in rows_of(x)] == list(range(n))


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_gives_the_default_strategys_metrics(tmp_path):
    # The same global batch of 32: one replica of 32, or two of 16.
    done = subprocess.run(train_command(packed(tmp_path), 2, [["default", 32], ["mirrored", 16]]),
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = histories(done.stdout)
    assert (runs["default"]["replicas"], runs["mirrored"]["replicas"]) == (1, 2)
    # Not equal: the replicas sum their gradients in another order, BatchNorm normalises each replica's
    # half batch, and the two strategies read the batches through different pipelines (in another order).
    for metric in ("loss", "class_loss", "votes_loss", "val_loss"):
        assert runs["mirrored"][metric] == pytest.approx(runs["default"][metric], rel=0.05), metric
    # Validated with BatchNorm statistics measured for the weights themselves, the vote loss (near 0.01
    # after one epoch) shows the two runs' weights apart: 0.0083 against 0.0096 when measured.
    assert runs["mirrored"]["val_votes_loss"] == pytest.approx(runs["default"]["val_votes_loss"], abs=0.003)
    # One epoch leaves the classes near chance, where a few images tip either way (0.15: 5 of 32 in val).
    for metric in ("class_accuracy", "val_class_accuracy"):
        assert runs["mirrored"][metric] == pytest.approx(runs["default"][metric], abs=0.15), metric


@pytest.mark.slow
def test_two_workers_on_localhost_train_an_epoch_together(tmp_path):
    folder = packed(tmp_path)
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    try:
        for index in range(2):
            config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            workers.append(subprocess.Popen(train_command(folder, 1, [["multi_worker", 16]], str(index)),
                                            env={**os.environ, "TF_CONFIG": config}, text=True,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        outputs = [worker.communicate(timeout=TIMEOUT_S) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-3000:]
    runs = [histories(stdout)["multi_worker"] for stdout, _ in outputs]
    assert runs[0]["replicas"] == 2
    assert len(runs[0]["loss"]) == 1 and np.isfinite(runs[0]["loss"][0])
    assert runs[0] == runs[1]  # one synchronous training: every worker reports the same metrics


class Preempted(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("deleted", [False, True], ids=["curves kept", "curves deleted as dvc repro does"])
@pytest.mark.parametrize("stop", ["after the backup", "before the backup"])
def test_a_stopped_training_resumes_from_its_last_epoch_and_continues_its_curves(tmp_path, monkeypatch, stop,
                                                                               deleted):
    params = ClassifierParams(width=4, epochs=3, batch_size=16, checkpoint_dir=str(tmp_path / "ckpt"),
                              augment=Augmentation(rotate=False, shift=0.0, zoom=0.0))
    train, val = tiny_split(48, 0), tiny_split(16, 1)
    back_up = keras.callbacks.BackupAndRestore.on_epoch_end

    def stop_in_second_epoch_end(self, epoch, logs=None):
        # The curves have logged epoch 2 by now; the backup of epoch 2 is written or not.
        if epoch == 1 and stop == "before the backup":
            raise Preempted
        back_up(self, epoch, logs)
        if epoch == 1:
            raise Preempted

    with monkeypatch.context() as patch:
        patch.setattr(keras.callbacks.BackupAndRestore, "on_epoch_end", stop_in_second_epoch_end)
        with pytest.raises(Preempted):
            fit_classifier(train, val, params, seed=0, curves=tmp_path / "curves")
    assert len(list((tmp_path / "ckpt").iterdir())) == 1
    assert logged(tmp_path / "curves", "train", "loss")["step"].tolist() == [0, 1]
    if deleted:  # DVC deletes a stage's outputs before it reruns the stage
        shutil.rmtree(tmp_path / "curves")
    resumed, history = fit_classifier(train, val, params, seed=0, curves=tmp_path / "curves")
    assert len(history["loss"]) == (1 if stop == "after the backup" else 2)  # the epochs the backup lacked
    assert logged(tmp_path / "curves", "eval", "loss")["step"].tolist() == [0, 1, 2]  # each epoch once
    assert list((tmp_path / "ckpt").iterdir()) == []  # and the backup is gone once training ends
    # The resumed epochs saw the batches they see in a run never stopped: the same weights, the same curves.
    whole, _ = fit_classifier(train, val, params, seed=0, curves=tmp_path / "whole")
    assert curve_files(tmp_path / "whole") == curve_files(tmp_path / "curves")
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        assert np.array_equal(a, b)
