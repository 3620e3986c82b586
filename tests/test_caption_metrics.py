import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from nltk.translate.bleu_score import corpus_bleu

from gzmorph.inference.metrics import (
    BLEU_WEIGHTS,
    SMOOTHING,
    bleu_counts,
    bleu_from_counts,
    bleu_scores,
    class_agreement,
    feature_agreement,
    most_frequent_caption,
    variety,
)


def test_identical_hypothesis_scores_one():
    caption = "a spiral galaxy showing features or a disk , seen face on"
    assert bleu_scores([[caption]], [caption]) == pytest.approx({f"bleu{n}": 1.0 for n in range(1, 5)})


def test_bleu1_by_hand_with_brevity_penalty():
    # 2 of 3 words match; the hypothesis (3) is shorter than the reference (4): BP = exp(1 - 4/3).
    scores = bleu_scores([["a b c d"]], ["a b x"])
    assert scores["bleu1"] == pytest.approx(2 / 3 * math.exp(1 - 4 / 3))


def test_every_reference_phrasing_counts():
    # "x" only occurs in the second reference, whose length (2, closest to 3 on a tie) means no penalty.
    assert bleu_scores([["a b c d", "x a"]], ["a b x"])["bleu1"] == pytest.approx(1.0)


def test_counts_are_pooled_over_the_corpus():
    assert bleu_scores([["a b"], ["c e"]], ["a b", "c d"])["bleu1"] == pytest.approx(3 / 4)


def test_method1_smoothing_replaces_a_zero_count_by_epsilon():
    # n-gram precisions 3/4, 2/3, 1/2 and 0/1, the last smoothed to 0.1/1; no brevity penalty.
    expected = math.exp(sum(math.log(p) for p in (3 / 4, 2 / 3, 1 / 2, 0.1 / 1)) / 4)
    assert bleu_scores([["a b c d"]], ["a b c x"])["bleu4"] == pytest.approx(expected)


def test_bleu_needs_one_reference_list_per_hypothesis():
    with pytest.raises(ValueError):
        bleu_scores([["a b"]], ["a b", "a b"])


def test_variety_by_hand():
    captions = ["a", "a", "a", "b", "b", "c", "d", "e"]
    assert variety(captions) == pytest.approx({"distinct": 5, "distinct_share": 5 / 8, "top3_share": 6 / 8})


def test_class_agreement_counts_missing_class_phrases_as_wrong():
    captions = ["a spiral galaxy , with a bar", "a galaxy merger", "an elliptical galaxy", "with a bar"]
    assert class_agreement(captions, [0, 3, 2, 0]) == pytest.approx(2 / 4)


def test_feature_agreement_is_per_feature_over_galaxies_that_state_it():
    captions = ["a spiral galaxy with a bar , with two arms",
                "a spiral galaxy without a bar",
                "a spiral galaxy with spiral arms"]
    references = [{"bar": "yes", "arm_count": "2"},
                  {"bar": "yes"},
                  {"arms": "yes", "bar": "no"}]
    assert feature_agreement(captions, references) == pytest.approx({"bar": 1 / 3, "arm_count": 1.0, "arms": 1.0})


def test_most_frequent_caption():
    assert most_frequent_caption(["b", "a", "b", "c"]) == "b"


WORDS = st.lists(st.sampled_from("a spiral galaxy bar , arms smooth round".split()), min_size=1, max_size=9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(WORDS, st.lists(WORDS, min_size=1, max_size=3)), min_size=1, max_size=12))
def test_bleu_from_summed_counts_is_nltks_corpus_bleu(pairs):
    hypotheses = [" ".join(hyp) for hyp, _ in pairs]
    references = [[" ".join(ref) for ref in refs] for _, refs in pairs]
    expected = corpus_bleu([[ref.split() for ref in refs] for refs in references], [h.split() for h in hypotheses],
                           weights=list(BLEU_WEIGHTS.values()), smoothing_function=SMOOTHING)
    assert list(bleu_scores(references, hypotheses).values()) == list(expected)  # to the bit


def test_a_resample_of_counts_scores_the_resampled_corpus():
    references, hypotheses = [["a b c"], ["a x"], ["b c d e"]], ["a b c", "a y", "b c"]
    rows = np.array([2, 0, 2])
    resampled = bleu_scores([references[r] for r in rows], [hypotheses[r] for r in rows])
    assert bleu_from_counts(bleu_counts(references, hypotheses)[rows].sum(axis=0)) == resampled
