"""The captioner's data: reference captions per galaxy, the vocabulary, and token sequences per split."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import CaptionConfig, build_vocab, encode_caption, encoded_length, table_captions, vocab_index
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import ID_COLUMN, VOTE_COLUMNS, completed
from gzmorph.io import read_json

REFERENCES, VOCAB, TOKENS = "references.json", "vocab.json", "tokens.npz"
COMPLETED = "completed.json"  # GalaxyID -> the questions its references took from the classifier's answers


def references_for(labels: pd.DataFrame, config: CaptionConfig) -> dict[str, list[str]]:
    """GalaxyID (as text, for JSON) -> its reference captions, from the table's own questions only."""
    votes = labels[[c for c in VOTE_COLUMNS if c in labels.columns]]
    classes = labels["class"].map(CLASSES.index).to_numpy()
    captions = table_captions(votes, classes, config)
    return {str(galaxy): refs for galaxy, refs in zip(labels[ID_COLUMN], captions)}


def token_sequences(references: dict[str, list[str]], galaxy_ids, vocab: list[str], max_len: int):
    """Every (galaxy, reference) pair of ``galaxy_ids`` as (ids, tokens): all phrasings are training targets."""
    index = vocab_index(vocab)
    pairs = [(galaxy, ref) for galaxy in galaxy_ids for ref in references[str(galaxy)]]
    ids = np.array([galaxy for galaxy, _ in pairs], dtype=np.int64)
    if not pairs:
        return ids, np.zeros((0, max_len), np.int32)
    return ids, np.stack([encode_caption(ref, index, max_len) for _, ref in pairs])


def completed_labels(labels: pd.DataFrame, predicted: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """``labels`` with the questions a galaxy of ``predicted`` (GalaxyID -> the classifier's vote columns) lacks
    filled from the classifier's answers (gz2.tree.completed), and which questions were, by GalaxyID."""
    rows = labels[ID_COLUMN].isin(predicted.index).to_numpy()
    votes = labels.reindex(columns=VOTE_COLUMNS).to_numpy(float)
    filled, questions = completed(votes[rows], predicted.loc[labels.loc[rows, ID_COLUMN]].to_numpy(float))
    out = labels.reindex(columns=[*labels.columns, *(c for c in VOTE_COLUMNS if c not in labels)])
    out.loc[rows, VOTE_COLUMNS] = filled
    ids = labels.loc[rows, ID_COLUMN]
    return out, {str(galaxy): numbers for galaxy, numbers in zip(ids, questions) if numbers}


def build_caption_data(labels: pd.DataFrame, splits: pd.DataFrame, config: CaptionConfig,
                       predicted: pd.DataFrame | None = None):
    """References for all galaxies; the vocabulary of the training split's references; train/val tokens,
    padded to the longest reference (a table with all 37 columns says more than one with 17); and the
    questions each galaxy of ``predicted`` (the training and validation galaxies, when completing) took from
    the classifier. Test galaxies' references come from their own labels alone: they are what captions are
    scored against."""
    completions: dict[str, list[int]] = {}
    if predicted is not None:
        labels, completions = completed_labels(labels, predicted)
    references = references_for(labels, config)
    max_len = max(encoded_length(ref) for refs in references.values() for ref in refs)
    ids_of = {name: splits.loc[splits["split"] == name, ID_COLUMN].to_numpy() for name in ("train", "val")}
    vocab = build_vocab(ref for galaxy in ids_of["train"] for ref in references[str(galaxy)])
    tokens = {}
    for name, galaxy_ids in ids_of.items():
        tokens[f"{name}_ids"], tokens[f"{name}_tokens"] = token_sequences(references, galaxy_ids, vocab, max_len)
    return references, vocab, tokens, completions


def load_references(captions_dir: Path) -> dict[str, list[str]]:
    return read_json(_existing(Path(captions_dir) / REFERENCES))


def load_vocab(captions_dir: Path) -> list[str]:
    return read_json(_existing(Path(captions_dir) / VOCAB))


def load_tokens(captions_dir: Path) -> dict[str, np.ndarray]:
    with np.load(_existing(Path(captions_dir) / TOKENS)) as tokens:
        return dict(tokens)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise GzmorphError(f"{path} is missing; run `dvc repro build_captions` first")
    return path
