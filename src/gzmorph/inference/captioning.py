"""Running the captioner: what the decoder sees of an image (the classifier's feature map and summary,
from one forward pass), and captions by greedy or beam search."""
from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from gzmorph.gz2.captions import END, START, decode_caption
from gzmorph.inference.tta import predict_with_tta
from gzmorph.models.beam import beam_search, greedy_decode
from gzmorph.models.captioner import AttentionDecoder, StepFunction
from gzmorph.models.classifier import CLASS_OUTPUT, VOTES_OUTPUT, with_features
from gzmorph.models.encoders import FEATURES


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


def generate_captions(decoder: AttentionDecoder, encoded: Encoded, vocab: list[str], max_len: int,
                      beam_width: int, length_penalty: float, batch_size: int = 512) -> list[str]:
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
        captions.extend(decode_caption(tokens, vocab) for tokens in token_lists)
    return captions
