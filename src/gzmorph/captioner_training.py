"""Training and running the captioner on the classifier's frozen encoder and heads."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from gzmorph.augment import predict_with_tta
from gzmorph.classifier import CLASS_OUTPUT, VOTES_OUTPUT, with_features
from gzmorph.beam import beam_search, greedy_decode
from gzmorph.captioner import AttentionDecoder, StepFunction, compile_decoder
from gzmorph.captions import END, START, decode
from gzmorph.batches import Batches
from gzmorph.datasets import Split
from gzmorph.encoders import FEATURES
from gzmorph.seeding import SeedEachEpoch, seed_everything
from gzmorph.params import CaptionerParams


class Encoded(NamedTuple):
    """What the decoder sees of each image."""

    features: np.ndarray  # (n, h, w, d) the encoder's spatial feature map
    summary: np.ndarray  # (n, 5 + 37) the classifier's class probabilities and predicted vote fractions


def predict_with_features(predictor: keras.Model, images, tta: bool) -> dict:
    """A ``with_features`` classifier's outputs in one pass: classes and votes (averaged over the 8 views
    with ``tta``), and the feature map of the image as it is, which the decoder attends over."""
    return predict_with_tta(predictor, np.asarray(images), tta, unaveraged=(FEATURES,))


def encoded_from(outputs: dict) -> Encoded:
    summary = np.concatenate([outputs[CLASS_OUTPUT], outputs[VOTES_OUTPUT]], axis=1).astype(np.float32)
    return Encoded(outputs[FEATURES], summary)


def encode_images(classifier: keras.Model, images, tta: bool) -> Encoded:
    """Features and summary of ``images``; the encoder stays frozen while the decoder learns."""
    return encoded_from(predict_with_features(with_features(classifier), images, tta))


class CaptionBatches(Batches):
    """Teacher forcing batches: (features, summary, tokens but the last) in, tokens but the first as targets."""

    def __init__(self, encoded: Encoded, caption_rows, tokens, batch_size, seed=None):
        self.encoded, self.caption_rows, self.tokens = encoded, caption_rows, tokens
        super().__init__(tokens, {}, batch_size, seed)

    def __getitem__(self, index):
        picked = self.rows(index)
        tokens, rows = self.tokens[picked], self.caption_rows[picked]
        return (self.encoded.features[rows], self.encoded.summary[rows], tokens[:, :-1]), tokens[:, 1:]


def rows_of(galaxy_ids: np.ndarray, split_ids: np.ndarray) -> np.ndarray:
    """Where each caption's galaxy sits in the split's feature array."""
    position = {galaxy: row for row, galaxy in enumerate(split_ids)}
    return np.array([position[g] for g in galaxy_ids], dtype=np.int64)


def training_set(classifier: keras.Model, split: Split, tokens: dict, name: str, tta: bool) -> tuple:
    """(the split's encoded images, each caption's row into them, caption tokens) for ``fit_captioner``."""
    return (encode_images(classifier, split.images, tta), rows_of(tokens[f"{name}_ids"], split.ids),
            tokens[f"{name}_tokens"])


def fit_captioner(train: tuple, val: tuple, vocab_size: int, params: CaptionerParams, seed: int,
                  curves_file: Path) -> tuple[AttentionDecoder, dict]:
    """``train``/``val`` are (encoded images, caption rows into them, tokens)."""
    seed_everything(seed)
    decoder = AttentionDecoder(vocab_size, params.embed_dim, params.units, params.attention_units,
                               params.dropout, name="captioner")
    compile_decoder(decoder, params.learning_rate)
    curves_file.parent.mkdir(parents=True, exist_ok=True)
    batches = CaptionBatches(*train, params.batch_size, seed=seed)
    history = decoder.fit(
        batches,
        validation_data=CaptionBatches(*val, params.batch_size),
        epochs=params.epochs,
        shuffle=False,  # the batches order themselves (SeedEachEpoch); Keras would reorder them by Python's random
        callbacks=[
            SeedEachEpoch(batches),
            keras.callbacks.EarlyStopping(patience=params.patience, restore_best_weights=True),
            keras.callbacks.CSVLogger(str(curves_file)),
        ],
        verbose=2,
    )
    return decoder, history.history


def generate_captions(decoder: AttentionDecoder, encoded: Encoded, vocab: list[str], max_len: int,
                      beam_width: int = 1, length_penalty: float = 0.0, batch_size: int = 512) -> list[str]:
    """Captions for encoded images: greedy when ``beam_width`` is 1, beam search otherwise."""
    step = StepFunction(decoder)
    start, end = vocab.index(START), vocab.index(END)
    captions = []
    for first in range(0, len(encoded.features), batch_size):
        batch = slice(first, first + batch_size)
        state = step.initial_state(encoded.features[batch], encoded.summary[batch])
        if beam_width == 1:
            token_lists = greedy_decode(step, state, start, end, max_len)
        else:
            token_lists = beam_search(step, state, start, end, beam_width, max_len, length_penalty)
        captions.extend(decode(tokens, vocab) for tokens in token_lists)
    return captions
