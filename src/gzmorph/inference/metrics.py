"""The metrics, as functions of predictions and truths: accuracy and F1, vote RMSE, caption BLEU against
every reference phrasing, caption variety, whether a caption says the right things, and 95 % intervals by
a percentile bootstrap over the scored galaxies.

Captions are tokenised by whitespace, as everywhere in gzmorph (see ``gzmorph.gz2.captions``). A test split
of a few hundred galaxies moves accuracy by a few points from one draw of galaxies to the next; the
interval says how far, so a `dvc metrics diff` can be read against it. The resamples come from a seed, so
the intervals are as reproducible as the figures.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from nltk.translate.bleu_score import (  # nltk's Fraction keeps _normalize on every Python (3.12 dropped it)
    Fraction,
    SmoothingFunction,
    brevity_penalty,
    closest_ref_length,
    modified_precision,
)
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from gzmorph.gz2.captions import FEATURE_NAMES, FINE_FEATURES, implied_class, parse_features
from gzmorph.gz2.rule import CLASSES

CLASS_INDICES = list(range(len(CLASSES)))


def headline_classification(true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": accuracy_score(true, predicted),
        "f1_weighted": f1_score(true, predicted, average="weighted", labels=CLASS_INDICES, zero_division=0),
        "f1_macro": f1_score(true, predicted, average="macro", labels=CLASS_INDICES, zero_division=0),
    }


def classification_metrics(true: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, weighted and macro F1 at the top, and under ``classes`` each class's precision, recall, F1
    and support: `dvc exp show` lists the top-level figures first and the nested ones as dotted keys."""
    metrics = headline_classification(true, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=CLASS_INDICES,
                                                                     zero_division=0)
    metrics = {k: round(float(v), 4) for k, v in metrics.items()}
    metrics["classes"] = {name: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                                 "f1": round(float(f1[i]), 4), "support": int(support[i])}
                          for i, name in enumerate(CLASSES)}
    return metrics


def vote_rmse(predicted: np.ndarray, true: np.ndarray) -> float:
    """RMSE over the vote columns the table has (NaN in ``true`` marks an absent one), as Kaggle scored it."""
    known = ~np.isnan(true)
    return float(np.sqrt(np.mean((predicted[known] - true[known]) ** 2)))


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


def fine_feature_shares(captions: list[str]) -> dict[str, float]:
    """Shares of captions naming a bar, spiral arms (or their count or winding), a bulge (or an edge-on one),
    and any of these, whatever the answer: whether captions go beyond the shape (gz2.captions.FINE_FEATURES)."""
    said = [parse_features(caption) for caption in captions]
    shares = {f"names_{what}": float(np.mean([any(f in s for f in features) for s in said]))
              for what, features in FINE_FEATURES.items()}
    every = [f for features in FINE_FEATURES.values() for f in features]
    return {**shares, "names_fine_feature": float(np.mean([any(f in s for f in every) for s in said]))}


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


Figures = Callable[[np.ndarray], dict[str, float]]  # rows of the scored galaxies -> named figures


def bootstrap_intervals(scores: Figures, count: int, resamples: int, seed: int) -> dict[str, dict[str, float]]:
    """{figure: {"low", "high"}}: the 2.5th and 97.5th percentiles of ``scores`` over ``resamples`` draws
    of ``count`` galaxies with replacement."""
    rng = np.random.default_rng(seed)
    draws = [scores(rng.integers(0, count, count)) for _ in range(resamples)]
    return {name: {"low": round(float(np.percentile([d[name] for d in draws], 2.5)), 4),
                   "high": round(float(np.percentile([d[name] for d in draws], 97.5)), 4)}
            for name in draws[0]}
