import numpy as np
import pandas as pd
import pytest

from gzmorph.errors import GzmorphError
from gzmorph.gz2.captions import (
    CAPTION_FEATURES,
    CLASS_PHRASES,
    END,
    PAD,
    START,
    UNK,
    CaptionConfig,
    as_sentence,
    build_vocab,
    class_openings,
    decode_caption,
    encode_caption,
    galaxy_captions,
    implied_class,
    parse_features,
    stated_features,
    table_captions,
    vocab_index,
)
from gzmorph.gz2.rule import CLASSES
from gzmorph.gz2.tree import QUESTION_BY_NUMBER, QUESTIONS

CONFIG = CaptionConfig()
SURE = 0.9  # a share well past every threshold, for the answers on the path to the question under test
EPS = 0.01

# The answers (question -> answer index) that lead to each question, so it is reached with confidence.
PATHS = {
    1: {}, 6: {},
    7: {1: 0},
    2: {1: 1},
    9: {1: 1, 2: 0},
    3: {1: 1, 2: 1}, 4: {1: 1, 2: 1}, 5: {1: 1, 2: 1},
    10: {1: 1, 2: 1, 4: 0}, 11: {1: 1, 2: 1, 4: 0},
    8: {6: 0},
}


def split(question: int, answer: int, share: float) -> tuple[float, ...]:
    """Conditional shares: ``share`` for one answer, the rest spread evenly over the others."""
    n = len(QUESTION_BY_NUMBER[question].answers)
    rest = (1.0 - share) / (n - 1)
    return tuple(share if i == answer else rest for i in range(n))


def votes_row(shares: dict[int, tuple[float, ...]], drop: tuple[int, ...] = ()) -> pd.Series:
    """A Kaggle-style row (cumulative products down the tree) from conditional shares per question.

    Questions not given get even shares, which state nothing; ``drop`` removes whole questions.
    """
    values: dict[str, float] = {}
    for q in QUESTIONS:  # parents come before children in QUESTIONS
        conditional = shares.get(q.number, split(q.number, 0, 1.0 / len(q.answers)))
        total = 1.0 if q.parent is None else values[q.parent]
        values.update({column: total * s for column, s in zip(q.columns, conditional)})
    kept = [c for q in QUESTIONS if q.number not in drop for c in q.columns]
    return pd.Series({c: values[c] for c in kept})


def reaching(question: int, shares: dict[int, tuple[float, ...]] | None = None) -> dict[int, tuple[float, ...]]:
    path = {q: split(q, a, SURE) for q, a in PATHS[question].items()}
    return {**path, **(shares or {})}


def has_phrase(sentence: str, phrase: str) -> bool:
    return f" {phrase} " in f" {sentence} "


FEATURE_ANSWERS = [(f, answer) for f in CAPTION_FEATURES for answer in f.phrases]


@pytest.mark.parametrize("feature, answer", FEATURE_ANSWERS, ids=[f"{f.name}={a}" for f, a in FEATURE_ANSWERS])
def test_feature_stated_just_above_the_threshold(feature, answer):
    q = feature.question
    votes = votes_row(reaching(q.number, {q.number: split(q.number, q.answers.index(answer), CONFIG.confident + EPS)}))
    assert stated_features(votes, CONFIG)[feature.name] == answer
    for k, sentence in enumerate(galaxy_captions(votes, 0, CONFIG)):
        assert has_phrase(sentence, feature.phrases[answer][k])


@pytest.mark.parametrize("feature, answer", FEATURE_ANSWERS, ids=[f"{f.name}={a}" for f, a in FEATURE_ANSWERS])
def test_feature_not_stated_just_below_the_threshold(feature, answer):
    q = feature.question
    votes = votes_row(reaching(q.number, {q.number: split(q.number, q.answers.index(answer), CONFIG.confident - EPS)}))
    assert stated_features(votes, CONFIG).get(feature.name) != answer
    for sentence in galaxy_captions(votes, 0, CONFIG):
        assert not any(has_phrase(sentence, phrase) for phrase in feature.phrases[answer])


def test_odd_feature_needs_odd_min_of_class6_1():
    merger_votes = lambda odd: votes_row({6: (odd, 1 - odd), 8: split(8, 5, SURE)})  # noqa: E731
    assert stated_features(merger_votes(CONFIG.odd_min + EPS), CONFIG)["odd"] == "merger"
    assert stated_features(merger_votes(CONFIG.odd_min), CONFIG)["odd"] == "merger"  # "needed": at least
    assert "odd" not in stated_features(merger_votes(CONFIG.odd_min - EPS), CONFIG)


def test_other_odd_feature_is_never_stated():
    votes = votes_row({6: split(6, 0, SURE), 8: split(8, 4, SURE)})
    assert "odd" not in stated_features(votes, CONFIG)


@pytest.mark.parametrize("question, blocked_path", [
    (7, {1: split(1, 1, SURE)}),                       # roundness of a galaxy most call a disk
    (3, {1: split(1, 1, SURE), 2: split(2, 0, SURE)}),  # a bar on an edge-on disk
    (9, {1: split(1, 0, SURE), 2: split(2, 0, SURE)}),  # an edge-on bulge on a smooth galaxy
    (11, {1: split(1, 1, SURE), 2: split(2, 1, SURE), 4: split(4, 1, SURE)}),  # arm count with no arms
])
def test_answers_off_the_confident_branch_are_not_stated(question, blocked_path):
    feature = next(f for f in CAPTION_FEATURES if f.question.number == question)
    votes = votes_row({**blocked_path, question: split(question, 0, SURE)})
    assert feature.name not in stated_features(votes, CONFIG)


def test_smooth_and_disk_branches_never_both_described():
    votes = votes_row({1: (0.5, 0.5, 0.0), 7: split(7, 0, SURE), 2: split(2, 1, SURE), 3: split(3, 0, SURE)})
    assert stated_features(votes, CONFIG) == {}


KAGGLE_ABSENT = (3, 4, 5, 9, 10, 11)


def test_absent_questions_contribute_nothing():
    face_on = {1: split(1, 1, SURE), 2: split(2, 1, SURE), 3: split(3, 0, SURE), 4: split(4, 0, SURE),
               5: split(5, 2, SURE), 10: split(10, 0, SURE), 11: split(11, 1, SURE)}
    full = stated_features(votes_row(face_on), CONFIG)
    kaggle = stated_features(votes_row(face_on, drop=KAGGLE_ABSENT), CONFIG)
    assert set(full) == {"shape", "edge_on", "bar", "arms", "bulge", "winding", "arm_count"}
    assert kaggle == {"shape": "features or disk", "edge_on": "no"}


def test_a_missing_parent_question_silences_its_children():
    votes = votes_row({1: split(1, 1, SURE), 2: split(2, 1, SURE), 3: split(3, 0, SURE)}, drop=(2,))
    assert stated_features(votes, CONFIG) == {"shape": "features or disk"}


def varied_rows() -> list[pd.Series]:
    """Rows that between them state every answer of every feature, several features at once."""
    rows = []
    for k in range(7):
        rows.append(votes_row({1: split(1, 1, SURE), 2: split(2, 1, SURE), 3: split(3, k % 2, SURE),
                               4: split(4, 0, SURE), 11: split(11, k % 6, SURE), 10: split(10, k % 3, SURE),
                               5: split(5, k % 4, SURE), 6: split(6, 0, SURE), 8: split(8, k, SURE)}))
        rows.append(votes_row({1: split(1, 0, SURE), 7: split(7, k % 3, SURE), 6: split(6, 0, SURE),
                               8: split(8, (k + 3) % 7, SURE)}))
        rows.append(votes_row({1: split(1, 1, SURE), 2: split(2, 0, SURE), 9: split(9, k % 3, SURE)}))
        rows.append(votes_row({1: split(1, 1, SURE), 2: split(2, 1, SURE), 4: split(4, 1, SURE)}))
        rows.append(votes_row({1: split(1, 2, SURE)}))
    return rows


def test_varied_rows_cover_every_answer():
    stated = {(name, value) for row in varied_rows() for name, value in stated_features(row, CONFIG).items()}
    assert stated == {(f.name, answer) for f, answer in FEATURE_ANSWERS}


@pytest.mark.parametrize("class_index", range(len(CLASSES)))
def test_every_phrasing_parses_back_to_the_stated_features_and_class(class_index):
    for votes in varied_rows():
        expected = stated_features(votes, CONFIG)
        for sentence in galaxy_captions(votes, class_index, CONFIG):
            assert parse_features(sentence) == expected
            assert implied_class(sentence) == class_index


def test_phrasings_are_distinct_deterministic_and_canonical_first():
    votes = varied_rows()[0]
    captions = galaxy_captions(votes, 0, CONFIG)
    assert len(captions) == CONFIG.phrasings == len(set(captions))
    assert captions == galaxy_captions(votes, 0, CONFIG)
    assert galaxy_captions(votes, 0, CaptionConfig(phrasings=1)) == captions[:1]
    assert captions[0].startswith("a spiral galaxy showing features or a disk , seen face on")


def test_captions_tokenise_by_whitespace():
    for votes in varied_rows():
        for sentence in galaxy_captions(votes, 4, CONFIG):
            assert sentence == sentence.lower() == " ".join(sentence.split())
            assert all(word == "," or word.replace("-", "").isalpha() for word in sentence.split())


def test_class_phrase_only_without_confident_features():
    votes = votes_row({})
    assert galaxy_captions(votes, 1, CONFIG) == list(CLASS_PHRASES[1])


@pytest.mark.parametrize("class_index, phrase", [(0, "a spiral galaxy"), (1, "an elliptical galaxy"),
                                                 (2, "an edge-on disk galaxy"), (3, "a merging galaxy"),
                                                 (4, "a galaxy of uncertain type")])
def test_canonical_class_phrases(class_index, phrase):
    assert galaxy_captions(votes_row({}), class_index, CONFIG)[0] == phrase
    assert implied_class(phrase + " with a bar") == class_index


def test_implied_class_of_text_without_a_class_phrase_is_none():
    assert implied_class("with a bar , a spiral galaxy") is None
    assert implied_class("") is None


def test_parse_features_skips_stray_words_and_keeps_the_first_mention():
    sentence = "a spiral galaxy very barred indeed , without a bar , with spiral arms arms"
    assert parse_features(sentence) == {"bar": "yes", "arms": "yes"}


def test_describe_table_pairs_rows_with_classes():
    rows = varied_rows()[:3]
    table = pd.DataFrame(rows).reset_index(drop=True)
    assert table_captions(table, [0, 1, 2], CONFIG) == [galaxy_captions(r, c, CONFIG) for r, c in zip(rows, [0, 1, 2])]
    with pytest.raises(ValueError):
        table_captions(table, [0, 1], CONFIG)


@pytest.mark.parametrize("bad", [dict(phrasings=0), dict(phrasings=4), dict(confident=1.5), dict(odd_min=-0.1)])
def test_config_rejects_values_out_of_range(bad):
    with pytest.raises(GzmorphError, match=next(iter(bad))):
        CaptionConfig(**bad)


def test_vocab_has_specials_first_then_sorted_words():
    vocab = build_vocab(["b a ,", "c a"])
    assert vocab == [PAD, START, END, UNK, ",", "a", "b", "c"]
    assert vocab.index(PAD) == 0


def test_encode_and_decode_round_trip_with_padding():
    vocab = build_vocab(["a spiral galaxy , with a bar"])
    index = vocab_index(vocab)
    ids = encode_caption("a spiral galaxy , with a bar", index, max_len=12)
    assert ids.dtype == np.int32 and ids.shape == (12,)
    assert ids[0] == index[START] and ids[8] == index[END] and (ids[9:] == 0).all()
    assert decode_caption(ids, vocab) == "a spiral galaxy , with a bar"


def test_encode_marks_unknown_words_and_decode_drops_specials():
    vocab = build_vocab(["a bar"])
    index = vocab_index(vocab)
    ids = encode_caption("a ring", index, max_len=5)
    assert ids.tolist() == [index[START], index["a"], index[UNK], index[END], 0]
    assert decode_caption(ids, vocab) == "a"
    assert decode_caption([index[START], index["bar"], index[END], index["a"]], vocab) == "bar"


def test_encode_refuses_a_caption_longer_than_max_len():
    index = vocab_index(build_vocab(["a b c"]))
    with pytest.raises(GzmorphError, match="max_len"):
        encode_caption("a b c", index, max_len=4)


def test_a_share_of_exactly_confident_is_not_stated():
    votes = votes_row({1: split(1, 0, CONFIG.confident)})
    assert "shape" not in stated_features(votes, CONFIG)


def test_a_caption_as_a_sentence_has_its_commas_against_the_words_and_the_same_words():
    caption = "a spiral galaxy showing features or a disk , seen face on , with a bar"
    assert as_sentence(caption) == "a spiral galaxy showing features or a disk, seen face on, with a bar"
    assert as_sentence(caption).replace(",", " ,").split() == caption.split()


def test_class_openings_are_the_phrases_of_each_class_the_vocabulary_spells():
    vocab = build_vocab(["a spiral galaxy , with arms", "a spiral type galaxy"])  # no other class's words
    spiral, ambiguous = class_openings([0, 4], vocab)
    assert [decode_caption(tokens, vocab) for tokens in spiral] == list(CLASS_PHRASES[0][:2])
    assert ambiguous == []  # a class the vocabulary cannot spell leaves its captions free
