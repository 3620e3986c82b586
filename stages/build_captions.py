"""Stage build_captions: vote fractions -> reference captions (several phrasings), vocabulary, tokens; the
questions a training galaxy's catalogue lacks completed from the classifier's answers (completed.json)."""

import numpy as np
import pandas as pd

import gzmorph.quiet_tensorflow  # noqa: F401  (first: TensorFlow loads without its start-up lines)
from gzmorph.data.caption_files import COMPLETED, REFERENCES, TOKENS, VOCAB, build_caption_data
from gzmorph.data.packed_splits import load_split
from gzmorph.errors import cli
from gzmorph.io import write_json
from gzmorph.models.folder import PIPELINE
from gzmorph.params import load_params
from gzmorph.paths import CAPTIONS, LABELS, PROCESSED, SPLIT_TABLE
from gzmorph.threads import pin_threads
from gzmorph.training.completion import COMPLETED_SPLITS, classifier_answers


@cli
def main():
    params = load_params()
    pin_threads(params.threads)
    labels = pd.read_csv(LABELS)
    predicted = None
    if params.build_captions.complete:
        splits = {name: load_split(PROCESSED, name) for name in COMPLETED_SPLITS}
        predicted = classifier_answers(labels, splits, PIPELINE, params)
    references, vocab, tokens, completed = build_caption_data(labels, pd.read_csv(SPLIT_TABLE),
                                                              params.build_captions, predicted)
    CAPTIONS.mkdir(parents=True, exist_ok=True)
    write_json(CAPTIONS / REFERENCES, references)
    write_json(CAPTIONS / VOCAB, vocab)
    write_json(CAPTIONS / COMPLETED, completed)
    np.savez(CAPTIONS / TOKENS, **tokens)
    distinct = len({refs[0] for refs in references.values()})
    print(f"{len(references)} galaxies, {distinct} distinct captions, vocabulary of {len(vocab)} words; "
          f"{len(completed)} completed from the classifier's answers")


if __name__ == "__main__":
    main()
