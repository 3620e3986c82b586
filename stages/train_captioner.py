"""Stage train_captioner: the classifier's frozen encoder + caption tokens -> the attention LSTM decoder."""
from pathlib import Path

import numpy as np

from gzmorph.caption_data import TOKENS, VOCAB
from gzmorph.captioner_training import encoder_features, fit_captioner, rows_of
from gzmorph.classifier import encoder_of
from gzmorph.datasets import load_split
from gzmorph.errors import cli
from gzmorph.io import read_json, write_json
from gzmorph.model_files import CAPTIONER_DIR, CLASSIFIER_DIR, VOCAB as MODEL_VOCAB, load_model, save_model
from gzmorph.params import load_params

PROCESSED = Path("data/processed")
CAPTIONS = Path("data/captions")
CURVES = Path("plots/train_captioner.csv")


@cli
def main():
    params = load_params()
    encoder = encoder_of(load_model(CLASSIFIER_DIR, "train_classifier").model)
    tokens = np.load(CAPTIONS / TOKENS)
    vocab = read_json(CAPTIONS / VOCAB)
    data = {}
    for name in ("train", "val"):
        split = load_split(PROCESSED, name)
        data[name] = (encoder_features(encoder, split.images), rows_of(tokens[f"{name}_ids"], split.ids),
                      tokens[f"{name}_tokens"])
    decoder, _ = fit_captioner(data["train"], data["val"], len(vocab), params.train_captioner, params.seed, CURVES)
    # Decoding may run as long as the longest training caption, its end token included.
    save_model(CAPTIONER_DIR, decoder, {"max_len": int(data["train"][2].shape[1]) - 1})
    write_json(CAPTIONER_DIR / MODEL_VOCAB, vocab)


if __name__ == "__main__":
    main()
