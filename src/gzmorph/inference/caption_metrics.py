"""Caption metrics: corpus BLEU against every reference phrasing, caption variety, and whether a generated
caption says the right things (its class phrase, and each feature its references state).

Captions are tokenised by whitespace, as everywhere in gzmorph (see ``gzmorph.gz2.captions``).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from nltk.translate.bleu_score import (  # nltk's Fraction keeps _normalize on every Python (3.12 dropped it)
    Fraction,
    SmoothingFunction,
    brevity_penalty,
    closest_ref_length,
    modified_precision,
)

from gzmorph.gz2.captions import FEATURE_NAMES, implied_class, parse_features

BLEU_WEIGHTS: dict[str, tuple[float, ...]] = {
    "bleu1": (1.0,),
    "bleu2": (1 / 2, 1 / 2),
    "bleu3": (1 / 3, 1 / 3, 1 / 3),
    "bleu4": (1 / 4, 1 / 4, 1 / 4, 1 / 4),
}
# Chen & Cherry (2014) method 1: a zero n-gram count becomes a tiny epsilon. Without it, one order with no
# match (likely for 4-grams on a small test split of short captions) zeroes the geometric mean and nltk
# warns; with it the score stays a smooth function of the other orders and identical to unsmoothed BLEU
# whenever every order has a match, which is the usual case over a whole corpus.
SMOOTHING = SmoothingFunction().method1


def _check_paired(name: str, items: Sequence, captions: Sequence[str]) -> None:
    if len(items) != len(captions):
        raise ValueError(f"{len(captions)} captions but {len(items)} {name}")
    if not captions:
        raise ValueError("no captions to score")


ORDERS = len(BLEU_WEIGHTS)


def bleu_counts(references: list[list[str]], hypotheses: list[str]) -> np.ndarray:
    """Per caption, what corpus BLEU sums over captions: matched and total n-grams of each order, the
    caption's length and its closest reference length (columns in that order).

    Summing rows and then scoring (``bleu_from_counts``) is corpus BLEU; summing a resample of rows is
    the BLEU of that resample, which is what makes a bootstrap over 1,000 resamples cheap.
    """
    _check_paired("reference lists", references, hypotheses)
    rows = []
    for refs, hyp in zip(references, hypotheses):
        refs, hyp = [ref.split() for ref in refs], hyp.split()
        precisions = [modified_precision(refs, hyp, n) for n in range(1, ORDERS + 1)]
        rows.append([p.numerator for p in precisions] + [p.denominator for p in precisions]
                    + [len(hyp), closest_ref_length(refs, len(hyp))])
    return np.array(rows, dtype=np.int64)


def bleu_from_counts(counts: np.ndarray) -> dict[str, float]:
    """BLEU-1..4 from ``bleu_counts`` rows summed over a corpus, as nltk's corpus_bleu scores it."""
    matched, total = counts[:ORDERS], counts[ORDERS:2 * ORDERS]
    if matched[0] == 0:
        return dict.fromkeys(BLEU_WEIGHTS, 0.0)
    precisions = SMOOTHING([Fraction(int(m), int(t), _normalize=False) for m, t in zip(matched, total)])
    penalty = brevity_penalty(int(counts[-1]), int(counts[-2]))
    return {name: float(penalty * math.exp(math.fsum(w * math.log(p) for w, p in zip(weights, precisions) if p > 0)))
            for name, weights in BLEU_WEIGHTS.items()}


def bleu_scores(references: list[list[str]], hypotheses: list[str]) -> dict[str, float]:
    """Corpus BLEU-1..4 of ``hypotheses``, each against all reference phrasings of its galaxy."""
    return bleu_from_counts(bleu_counts(references, hypotheses).sum(axis=0))


def variety(captions: list[str]) -> dict[str, float]:
    """How varied captions are: distinct count and share, and the share the 3 most frequent ones cover.

    A captioner that has collapsed onto a few safe sentences shows a small distinct share and a top3
    share near 1, whatever its BLEU.
    """
    if not captions:
        raise ValueError("no captions to measure")
    counts = Counter(captions)
    top3 = sum(count for _, count in counts.most_common(3))
    return {
        "distinct": len(counts),
        "distinct_share": len(counts) / len(captions),
        "top3_share": top3 / len(captions),
    }


def class_agreement(captions: list[str], true_class_indices: Sequence[int]) -> float:
    """Share of captions whose class phrase names the true class (no class phrase counts as wrong)."""
    _check_paired("true classes", true_class_indices, captions)
    implied = [implied_class(caption) for caption in captions]
    return float(np.mean([guess == int(truth) for guess, truth in zip(implied, true_class_indices)]))


def feature_agreement(captions: list[str], reference_features: list[dict[str, str]]) -> dict[str, float]:
    """Per feature, over the galaxies whose references state it: share whose caption states the same value.

    Features that no reference states (questions absent from the table) are left out rather than scored.
    """
    _check_paired("reference feature sets", reference_features, captions)
    generated = [parse_features(caption) for caption in captions]
    agreement = {}
    for name in FEATURE_NAMES:
        hits = [said.get(name) == ref[name] for said, ref in zip(generated, reference_features) if name in ref]
        if hits:
            agreement[name] = float(np.mean(hits))
    return agreement


def most_frequent_caption(captions: list[str]) -> str:
    """The commonest caption (the first seen among ties): a constant baseline for BLEU and variety."""
    if not captions:
        raise ValueError("no captions to choose from")
    return Counter(captions).most_common(1)[0][0]
