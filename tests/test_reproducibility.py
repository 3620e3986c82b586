"""The same params give the same bytes: model files."""
import subprocess
import sys


from gzmorph.model_files import MODEL, load_model


# Builds a tiny classifier and decoder from one seed and saves them under argv[1], as a stage would.
SAVE = """
import sys
from pathlib import Path
import numpy as np
from gzmorph.captioner import AttentionDecoder
from gzmorph.classifier import build_classifier
from gzmorph.model_files import save_model
from gzmorph.seeding import seed_everything
seed_everything(0)
decoder = AttentionDecoder(20, 8, 16, 8, 0.0)
decoder((np.zeros((1, 2, 2, 4), "float32"), np.zeros((1, 42), "float32"), np.zeros((1, 3), "int32")))
for name, model in (("classifier", build_classifier(16, width=4, precision="mixed_bfloat16")), ("captioner", decoder)):
    for copy in ("a", "b"):
        save_model(Path(sys.argv[1]) / f"{name}-{copy}", model, {"vocab": ["a", "b"]})
"""


def test_the_same_weights_give_the_same_model_file_in_any_process(tmp_path):
    # Two processes: Python's object ids (which Keras writes into config.json) differ between them.
    for run_dir in ("first", "second"):
        subprocess.run([sys.executable, "-c", SAVE, str(tmp_path / run_dir)], check=True, capture_output=True)
    for name in ("classifier", "captioner"):
        files = [tmp_path / run / f"{name}-{copy}" / MODEL for run in ("first", "second") for copy in "ab"]
        assert len({file.read_bytes() for file in files}) == 1, name
        assert load_model(files[0].parent, "train_classifier").meta == {"vocab": ["a", "b"]}
