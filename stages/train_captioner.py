"""Stage train_captioner: the classifier's frozen encoder + caption tokens -> the attention LSTM decoder."""

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.caption_files import load_references, load_tokens, load_vocab
from gzmorph.data.packed_splits import load_split
from gzmorph.errors import cli
from gzmorph.inference.metrics import most_frequent_caption
from gzmorph.models.files import CaptionerRecord, ClassifierRecord, load_model, save_model
from gzmorph.params import load_params
from gzmorph.paths import CAPTIONER, CAPTIONER_CURVES, CAPTIONS, CLASSIFIER, PROCESSED
from gzmorph.threads import pin_threads
from gzmorph.training.captioner import fit_captioner, training_set


@cli
def main():
    params = load_params()
    pin_threads(params.threads)
    classifier = load_model(CLASSIFIER, ClassifierRecord).model
    tokens, vocab, references = load_tokens(CAPTIONS), load_vocab(CAPTIONS), load_references(CAPTIONS)
    splits = {name: load_split(PROCESSED, name) for name in ("train", "val")}
    train, val = (training_set(classifier, splits[name], tokens, name, params.inference.tta) for name in splits)
    decoder, _ = fit_captioner(train, val, len(vocab), params.train_captioner, params.seed, CAPTIONER_CURVES)
    save_model(CAPTIONER, decoder, CaptionerRecord(
        max_len=int(train[2].shape[1]) - 1,
        most_frequent_caption=most_frequent_caption([references[str(g)][0] for g in splits["train"].ids]),
        vocab=vocab))


if __name__ == "__main__":
    main()
