"""The same params give the same bytes: batch order, model files, and whole reruns of the training stages
under other thread counts and a busy CPU (gzmorph.devtools.reproduce, the maintainer's check)."""
import subprocess
import sys

import numpy as np
import pytest

from gzmorph.devtools import reproduce
from gzmorph.models.files import CaptionerRecord
from gzmorph.models.folder import ModelsFolder
from gzmorph.training.batches import Batches
from helpers import captioner_record, copy_workspace


def epoch_rows(batches: Batches) -> list[int]:
    return [int(row) for index in range(len(batches)) for row in batches.rows(index)]


def test_each_epochs_batch_order_comes_from_the_seed_and_the_epoch_alone():
    images = np.zeros((50, 2, 2, 3), np.uint8)
    fresh = Batches(images, {}, 8, seed=3)
    used = Batches(images, {}, 8, seed=3)
    for epoch in (4, 0, 1):  # whatever came before, and however often
        used.start_epoch(epoch)
    used.start_epoch(2)
    fresh.start_epoch(2)
    assert epoch_rows(used) == epoch_rows(fresh)
    assert sorted(epoch_rows(fresh)) == list(range(50))  # every row once
    fresh.start_epoch(3)
    assert epoch_rows(fresh) != epoch_rows(used)  # a new order each epoch
    assert epoch_rows(Batches(images, {}, 8)) == list(range(50))  # unseeded (validation): in order


# Builds a tiny classifier and decoder from one seed and saves them under argv[1], as a stage would.
SAVE = """
import sys
from pathlib import Path
import numpy as np
from gzmorph.models.captioner import AttentionDecoder
from gzmorph.models.classifier import build_classifier
from gzmorph.gz2.captions import CaptionConfig
from gzmorph.models.files import CaptionerRecord, Trained
from gzmorph.models.folder import ModelsFolder
from gzmorph.training.seeding import seed_everything
seed_everything(0)
decoder = AttentionDecoder(20, 8, 16, 8, 0.0)
decoder((np.zeros((1, 2, 2, 4), "float32"), np.zeros((1, 42), "float32"), np.zeros((1, 3), "int32")))
classifier = build_classifier(16, "small_cnn", 4, 0.3, "none", "mixed_bfloat16")
for name, model in (("classifier", classifier), ("captioner", decoder)):
    for copy in ("a", "b"):
        record = CaptionerRecord(3, "a", ["a", "b"], CaptionConfig(), beam_width=5, length_penalty=0.7)
        ModelsFolder(Path(sys.argv[1]) / f"{name}-{copy}").save(Trained(model, record))
"""


@pytest.mark.slow
def test_the_same_weights_give_the_same_model_file_in_any_process(tmp_path):
    # Two processes: Python's object ids (which Keras writes into config.json) differ between them.
    for run_dir in ("first", "second"):
        subprocess.run([sys.executable, "-c", SAVE, str(tmp_path / run_dir)], check=True, capture_output=True)
    for name in ("classifier", "captioner"):
        folders = [ModelsFolder(tmp_path / run / f"{name}-{copy}") for run in ("first", "second") for copy in "ab"]
        assert len({folder.keras_file(CaptionerRecord).read_bytes() for folder in folders}) == 1, name
        assert folders[0].record(CaptionerRecord, "") == captioner_record()


@pytest.mark.slow
def test_training_and_evaluate_rerun_byte_for_byte_with_other_thread_counts_on_a_busy_cpu(tiny_baseline, tmp_path):
    # The stages fix TensorFlow's threads per op to params.yaml's ``threads``, whatever the environment
    # asks; five threads in every other pool, with every core busy, stand in for another machine's cores
    # and load.
    root = copy_workspace(tiny_baseline, tmp_path / "rerun")
    threads = {"TF_NUM_INTRAOP_THREADS": "5", "TF_NUM_INTEROP_THREADS": "5", "OMP_NUM_THREADS": "5"}
    reproduce.rerun(root, threads, busy=True)
    assert reproduce.differences(root) == []
