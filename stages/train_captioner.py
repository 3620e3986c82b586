"""Stage train_captioner: the classifier's frozen encoder + caption tokens -> the attention LSTM decoder."""
from pathlib import Path

from gzmorph.caption_data import load_references, load_tokens, load_vocab
from gzmorph.captioner_training import fit_captioner, training_set
from gzmorph.datasets import load_split
from gzmorph.errors import cli
from gzmorph.model_files import CAPTIONER_DIR, CLASSIFIER_DIR, load_model, save_model
from gzmorph.params import load_params
from gzmorph.text_metrics import most_frequent_caption

PROCESSED = Path("data/processed")
CAPTIONS = Path("data/captions")
CURVES = Path("plots/train_captioner.csv")


@cli
def main():
    params = load_params()
    classifier = load_model(CLASSIFIER_DIR, "train_classifier").model
    tokens, vocab, references = load_tokens(CAPTIONS), load_vocab(CAPTIONS), load_references(CAPTIONS)
    splits = {name: load_split(PROCESSED, name) for name in ("train", "val")}
    train, val = (training_set(classifier, splits[name], tokens, name, params.evaluate.tta) for name in splits)
    decoder, _ = fit_captioner(train, val, len(vocab), params.train_captioner, params.seed, CURVES)
    save_model(CAPTIONER_DIR, decoder, {
        "max_len": int(train[2].shape[1]) - 1,  # the longest training caption, its end token included
        # the constant baseline that evaluate scores: the training split's commonest caption
        "most_frequent_caption": most_frequent_caption([references[str(g)][0] for g in splits["train"].ids]),
        "vocab": vocab,
    })


if __name__ == "__main__":
    main()
