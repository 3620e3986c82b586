"""Stage build_captions: vote fractions -> reference captions (several phrasings), vocabulary, tokens."""
from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.caption_data import REFERENCES, TOKENS, VOCAB, build_caption_data
from gzmorph.errors import cli
from gzmorph.io import write_json
from gzmorph.params import load_params

LABELS = Path("data/interim/labels.csv")
SPLITS = Path("data/interim/splits.csv")
OUT = Path("data/captions")


@cli
def main():
    params = load_params()
    references, vocab, tokens = build_caption_data(pd.read_csv(LABELS), pd.read_csv(SPLITS),
                                                   params.build_captions)
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(OUT / REFERENCES, references)
    write_json(OUT / VOCAB, vocab)
    np.savez(OUT / TOKENS, **tokens)
    distinct = len({refs[0] for refs in references.values()})
    print(f"{len(references)} galaxies, {distinct} distinct captions, vocabulary of {len(vocab)} words")


if __name__ == "__main__":
    main()
