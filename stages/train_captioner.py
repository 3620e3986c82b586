"""Stage train_captioner: the classifier's frozen encoder + caption tokens -> the attention LSTM decoder."""

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.caption_files import load_references, load_tokens, load_vocab
from gzmorph.data.packed_splits import load_split
from gzmorph.errors import cli
from gzmorph.models.files import ClassifierRecord
from gzmorph.models.folder import PIPELINE
from gzmorph.params import load_params
from gzmorph.paths import CAPTIONER_CURVES, CAPTIONS, PROCESSED
from gzmorph.threads import pin_threads
from gzmorph.training.captioner import train_captioner


@cli
def main():
    params = load_params()
    pin_threads(params.threads)
    classifier = PIPELINE.load(ClassifierRecord).model
    splits = {name: load_split(PROCESSED, name) for name in ("train", "val")}
    trained = train_captioner(classifier, splits, load_tokens(CAPTIONS), load_vocab(CAPTIONS),
                              load_references(CAPTIONS), params, CAPTIONER_CURVES)
    PIPELINE.save(trained)


if __name__ == "__main__":
    main()
