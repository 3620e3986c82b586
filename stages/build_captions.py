"""Stage build_captions: vote fractions -> reference captions (several phrasings), vocabulary, tokens."""

import numpy as np
import pandas as pd

from gzmorph.data.caption_files import REFERENCES, TOKENS, VOCAB, build_caption_data
from gzmorph.errors import cli
from gzmorph.io import write_json
from gzmorph.params import load_params
from gzmorph.paths import CAPTIONS, LABELS, SPLIT_TABLE


@cli
def main():
    params = load_params()
    references, vocab, tokens = build_caption_data(pd.read_csv(LABELS), pd.read_csv(SPLIT_TABLE),
                                                   params.build_captions)
    CAPTIONS.mkdir(parents=True, exist_ok=True)
    write_json(CAPTIONS / REFERENCES, references)
    write_json(CAPTIONS / VOCAB, vocab)
    np.savez(CAPTIONS / TOKENS, **tokens)
    distinct = len({refs[0] for refs in references.values()})
    print(f"{len(references)} galaxies, {distinct} distinct captions, vocabulary of {len(vocab)} words")


if __name__ == "__main__":
    main()
