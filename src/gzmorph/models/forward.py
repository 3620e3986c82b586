"""The forward pass of the trained models, the one every prediction goes through: the classifier's outputs
in batches, averaged over the 8 rotations and flips of the square with test-time augmentation (TTA), its
feature map for the decoder, and captions by greedy or beam search."""
from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from gzmorph.gz2.captions import END, START, class_openings, decode_caption
from gzmorph.models.beam import Openings, beam_search, greedy_decode
from gzmorph.models.captioner import AttentionDecoder, StepFunction
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, with_features
from gzmorph.models.encoders import FEATURES
from gzmorph.models.files import Trained


def dihedral_views(images: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations and flips of a (n, h, w, c) batch of square images."""
    views = []
    for flipped in (images, images[:, :, ::-1]):
        for k in range(4):
            views.append(np.ascontiguousarray(np.rot90(flipped, k, axes=(1, 2))))
    return views


def predict_with_tta(model: keras.Model, images: np.ndarray, tta: bool, batch_size: int = 256,
                     unaveraged: tuple[str, ...] = ()) -> dict:
    """The model's outputs, averaged over the 8 dihedral views when ``tta`` is set.

    Outputs named in ``unaveraged`` come from the untransformed view alone: a spatial feature map turns
    with the image, so its eight views cannot be averaged.
    """
    views = dihedral_views(images) if tta else [images]
    # The views go in view by view, so the untransformed one is the first len(images) rows.
    outputs = predict_in_batches(model, np.concatenate(views), batch_size, dict.fromkeys(unaveraged, len(images)))
    return {name: value if name in unaveraged else value.reshape(len(views), -1, *value.shape[1:]).mean(axis=0)
            for name, value in outputs.items()}


def predict_in_batches(model: keras.Model, images: np.ndarray, batch_size: int, first_rows: dict[str, int]) -> dict:
    """The model's outputs batch by batch through ``predict_on_batch``: the same computation as
    ``model.predict``, without its per-call machinery, which cost as much as the encoder itself
    (docs/results.md, "Prediction speed"). An output named in
    ``first_rows`` keeps only that many leading rows, cut batch by batch, so the views TTA discards of a
    large output (a feature map) are never all held at once."""
    batches = []
    for start in range(0, len(images), batch_size):
        batch = model.predict_on_batch(images[start:start + batch_size])
        batches.append({name: value[:max(0, first_rows[name] - start)] if name in first_rows else value
                        for name, value in batch.items()})
    return {name: np.concatenate([batch[name] for batch in batches]) for name in batches[0]}


class Encoded(NamedTuple):
    """What the decoder sees of each image."""

    features: np.ndarray  # (n, h, w, d) the encoder's spatial feature map
    summary: np.ndarray  # (n, 5 + 37) the classifier's class probabilities and predicted vote fractions


def predict_with_features(predictor: keras.Model, images, tta: bool) -> dict:
    """A ``with_features`` classifier's outputs in one pass: classes and votes (averaged over the 8 views
    with ``tta``), and the feature map of the image as it is, which the decoder attends over."""
    return predict_with_tta(predictor, np.asarray(images), tta, unaveraged=(FEATURES,))


def pooled_features(outputs: dict) -> np.ndarray:
    """The encoder's feature map averaged over its positions, one vector an image: what the classifier's heads
    read, and an embedding for similarity search and clustering."""
    return outputs[FEATURES].astype(np.float32).mean(axis=(1, 2))


def encoded_from(outputs: dict) -> Encoded:
    summary = np.concatenate([outputs[CLASS_OUTPUT], outputs[VOTES_OUTPUT]], axis=1).astype(np.float32)
    return Encoded(outputs[FEATURES], summary)


def encode_images(classifier: keras.Model, images, tta: bool) -> Encoded:
    """Features and summary of ``images``; the encoder stays frozen while the decoder learns."""
    return encoded_from(predict_with_features(with_features(classifier), images, tta))


def captions_from(captioner: Trained, outputs: dict, beam_width: int, length_penalty: float,
                  classes: np.ndarray) -> list[str]:
    """Captions decoded from the forward pass's outputs by a trained captioner, greedy when ``beam_width`` is
    1, beam search otherwise, each opening with a phrase of its image's class in ``classes``: a row's caption
    never names another class than the row."""
    record = captioner.record
    return generate_captions(captioner.model, encoded_from(outputs), record.vocab, record.max_len, beam_width,
                             length_penalty, class_openings(classes, record.vocab))


def generate_captions(decoder: AttentionDecoder, encoded: Encoded, vocab: list[str], max_len: int,
                      beam_width: int, length_penalty: float, openings: Openings | None = None,
                      batch_size: int = 512) -> list[str]:
    """Captions for encoded images: greedy when ``beam_width`` is 1, beam search otherwise; with ``openings``
    (per image), each opens with one of its own."""
    step = StepFunction(decoder)
    start, end = vocab.index(START), vocab.index(END)
    captions = []
    for first in range(0, len(encoded.features), batch_size):
        batch = slice(first, first + batch_size)
        state = step.initial_state(encoded.features[batch], encoded.summary[batch])
        held = openings[batch] if openings is not None else None
        if beam_width == 1:
            token_lists = greedy_decode(step, state, start, end, max_len, held)
        else:
            token_lists = beam_search(step, state, start, end, beam_width, max_len, length_penalty, held)
        captions.extend(decode_caption(tokens, vocab) for tokens in token_lists)
    return captions
