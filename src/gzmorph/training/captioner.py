"""Training the captioner on the classifier's frozen encoder and heads (teacher forcing)."""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from gzmorph.data.packed_splits import Split
from gzmorph.inference.metrics import most_frequent_caption
from gzmorph.models.captioner import AttentionDecoder, compile_decoder
from gzmorph.models.files import CaptionerRecord, Trained
from gzmorph.models.forward import Encoded, encode_images
from gzmorph.params import CaptionerParams, Params
from gzmorph.training.batches import EpochOrder
from gzmorph.training.curves import curves_logger
from gzmorph.training.seeding import SeedEachEpoch, seed_everything


class CaptionBatches(EpochOrder):
    """Teacher forcing batches, one example a caption: (features, summary, tokens but the last) in, tokens
    but the first as targets."""

    def __init__(self, encoded: Encoded, caption_rows, tokens, batch_size, seed=None):
        self.encoded, self.caption_rows, self.tokens = encoded, caption_rows, tokens
        super().__init__(len(tokens), batch_size, seed)

    def __getitem__(self, index):
        picked = self.rows(index)
        tokens, rows = self.tokens[picked], self.caption_rows[picked]
        return (self.encoded.features[rows], self.encoded.summary[rows], tokens[:, :-1]), tokens[:, 1:]


def rows_of(galaxy_ids: np.ndarray, split_ids: np.ndarray) -> np.ndarray:
    """Where each caption's galaxy sits in the split's feature array."""
    position = {galaxy: row for row, galaxy in enumerate(split_ids)}
    return np.array([position[g] for g in galaxy_ids], dtype=np.int64)


def train_captioner(classifier: keras.Model, splits: dict[str, Split], tokens: dict, vocab: list[str],
                    references: dict[str, list[str]], params: Params, curves: Path) -> Trained:
    """The fitted decoder over ``classifier``'s frozen encoder, with the record it is saved with: the
    vocabulary and caption length, the constant baseline, and the caption and beam settings it answers with."""
    train, val = (training_set(classifier, splits[name], tokens, name, params.inference.tta)
                  for name in ("train", "val"))
    decoder, _ = fit_captioner(train, val, len(vocab), params.train_captioner, params.seed, curves)
    return Trained(decoder, CaptionerRecord(
        max_len=int(train[2].shape[1]) - 1,
        most_frequent_caption=most_frequent_caption([references[str(g)][0] for g in splits["train"].ids]),
        vocab=vocab, build_captions=params.build_captions, beam_width=params.inference.beam_width,
        length_penalty=params.inference.length_penalty))


def training_set(classifier: keras.Model, split: Split, tokens: dict, name: str, tta: bool) -> tuple:
    """(the split's encoded images, each caption's row into them, caption tokens) for ``fit_captioner``."""
    return (encode_images(classifier, split.images, tta), rows_of(tokens[f"{name}_ids"], split.ids),
            tokens[f"{name}_tokens"])


def fit_captioner(train: tuple, val: tuple, vocab_size: int, params: CaptionerParams, seed: int,
                  curves: Path) -> tuple[AttentionDecoder, dict]:
    """``train``/``val`` are (encoded images, caption rows into them, tokens)."""
    seed_everything(seed)
    decoder = AttentionDecoder(vocab_size, params.embed_dim, params.units, params.attention_units,
                               params.dropout, name="captioner")
    compile_decoder(decoder, params.learning_rate)
    batches = CaptionBatches(*train, params.batch_size, seed=seed)
    history = decoder.fit(
        batches,
        validation_data=CaptionBatches(*val, params.batch_size),
        epochs=params.epochs,
        shuffle=False,  # the batches order themselves (SeedEachEpoch); Keras would reorder them by Python's random
        callbacks=[
            *curves_logger(curves),
            SeedEachEpoch(batches),
            keras.callbacks.EarlyStopping(patience=params.patience, restore_best_weights=True),
        ],
        verbose=2,
    )
    return decoder, history.history
