"""Benchmark `gzmorph predict`: start-up (imports, model loading) and batch throughput on real Kaggle JPEGs.

    .venv/bin/python benchmarks/bench_predict.py [--models models] [--count 2048] [--batch-size 512]

Throughput is end to end, as the command runs it (decode, crop and resize, classifier, captions, the
result table), for four set-ups: classifier only or with beam-search captions, with or without the 8-view
test-time augmentation. `gzmorph predict` runs with captions and without TTA unless told otherwise
(--no-captions, --tta). Target: >= 500 images/s on 2 cores at the default image size (64 px).

When the models folder (--models, default models/) holds no trained models, the models are the
default architecture from params.yaml's defaults, untrained: speed does not depend on the weights,
except that an untrained decoder never ends a caption early, so its caption figures are the worst case
(max_len steps).
The images are read where they lie; nothing is copied into the project.
"""
from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports, which are part of start-up

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from gzmorph.data.caption_files import references_for  # noqa: E402
from gzmorph.data.labels import clean_labels, read_table  # noqa: E402
from gzmorph.gz2.captions import build_vocab, encoded_length  # noqa: E402
from gzmorph.gz2.rule import CLASSES  # noqa: E402
from gzmorph.gz2.tree import VOTE_COLUMNS  # noqa: E402
from gzmorph.inference.predict import predict_files  # noqa: E402
from gzmorph.models.captioner import AttentionDecoder  # noqa: E402
from gzmorph.models.classifier import ClassDecision, build_classifier, with_features  # noqa: E402
from gzmorph.models.encoders import FEATURES  # noqa: E402
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, save_model  # noqa: E402
from gzmorph.models.folder import ModelsFolder  # noqa: E402
from gzmorph.models.loaded import load_models  # noqa: E402
from gzmorph.params import CaptionerParams, ClassifierParams, Params  # noqa: E402
from gzmorph.paths import real_gz2  # noqa: E402

IMPORTED = time.perf_counter()

KAGGLE_IMAGES = real_gz2("kaggle") / "images_training_rev1"
SAMPLE = Path("data/sample")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models"), help="trained models (default: models)")
    parser.add_argument("--images", type=Path, default=KAGGLE_IMAGES, help="folder of real JPEGs")
    parser.add_argument("--count", type=int, default=2048, help="images per timed run")
    parser.add_argument("--batch-size", type=int, default=512)
    return parser.parse_args()


def untrained_models(out_dir: Path, size: int = 64) -> Path:
    """The default classifier and captioner, unfitted, saved as the pipeline saves its models."""
    clf = ClassifierParams()
    classifier = build_classifier(size, clf.backbone, clf.width, clf.dropout, clf.weights, clf.precision)
    decision = ClassDecision("softmax", [1.0] * len(CLASSES), VOTE_COLUMNS)
    save_model(out_dir / "classifier", classifier, ClassifierRecord(
        decision, {}, [0.1] * len(VOTE_COLUMNS), pixels=size, crop=Params().image.crop,
        trained_on="nothing: untrained", synthetic=False, rule=Params().clean_labels.rule, tta=False))
    vocab, max_len = sample_vocabulary()
    cap = CaptionerParams()
    decoder = AttentionDecoder(len(vocab), cap.embed_dim, cap.units, cap.attention_units, cap.dropout,
                               name="captioner")
    features = with_features(classifier)(np.zeros((1, size, size, 3), np.float32))[FEATURES]
    decoder((features, np.zeros((1, len(CLASSES) + len(VOTE_COLUMNS)), np.float32), np.zeros((1, 2), np.int32)))
    inference = Params().inference
    save_model(out_dir / "captioner", decoder, CaptionerRecord(
        max_len, "", vocab, Params().build_captions, inference.beam_width, inference.length_penalty))
    return out_dir


def sample_vocabulary() -> tuple[list[str], int]:
    """The vocabulary and caption length the embedded sample's references give (what a trained model has)."""
    labels = clean_labels(read_table(SAMPLE / "training_solutions_rev1.csv"), SAMPLE / "images_training_rev1",
                          Params().clean_labels.rule, Params().clean_labels.sum_tolerance).labels
    references = [r for refs in references_for(labels, Params().build_captions).values() for r in refs]
    return build_vocab(references), max(encoded_length(r) for r in references) - 1


def throughput(paths, models, settings: Params, batch_size: int) -> float:
    predict_files(paths[:batch_size], models, settings, batch_size)  # traces the TensorFlow functions
    start = time.perf_counter()
    predict_files(paths, models, settings, batch_size)
    return len(paths) / (time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        models_dir = args.models
        if not (models_dir / "captioner" / "model.keras").is_file():
            print(f"no trained models in {models_dir}: timing the default architecture, untrained")
            models_dir = untrained_models(Path(scratch))
        loading = time.perf_counter()
        models = load_models(ModelsFolder(models_dir))
        loaded = time.perf_counter()
        print(f"start-up: imports {IMPORTED - STARTED:.1f} s, loading both models {loaded - loading:.1f} s")
        paths = sorted(args.images.iterdir())[:args.count]
        settings = models.settings()
        inference = settings.inference
        print(f"{len(paths)} images, batch {args.batch_size}, {models.pixels} px, beam width "
              f"{inference.beam_width}, {os.cpu_count()} CPUs")
        for captions in (False, True):
            for tta in (False, True):
                setup = replace(models, captioner=models.captioner if captions else None)
                rate = throughput(paths, setup, settings.model_copy(update={"inference": replace(inference, tta=tta)}),
                                  args.batch_size)
                default = "  <- gzmorph predict's default" if captions and not tta else ""
                print(f"{'classifier + captions' if captions else 'classifier only':22} "
                      f"{'TTA x8' if tta else 'no TTA':7} {rate:8.0f} images/s{default}")


if __name__ == "__main__":
    main()
