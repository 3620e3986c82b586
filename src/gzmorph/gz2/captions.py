"""Reference captions templated from GZ2 vote fractions: the captioner's training targets and its references.

A caption is a class phrase (from the galaxy's rule class, so the class a caption implies can be read back)
followed by one clause per feature whose answer is confident, in the fixed order of the table below. An
answer is stated when its conditional fraction (the column over its question's total) is more than
``confident`` and the branch leading to its question was taken: the answer that leads there is itself
stated (question 7 needs "smooth" stated, question 3 needs "edge-on: no", and so on). Question 6 has no
clause; question 8 is gated by Class6.1 >= ``odd_min`` instead. So a question states at most its most
popular answer, the smooth and the disk branches are never both described, and a caption is one
consistent walk down the tree. A question whose columns are missing from the table states nothing, nor
does any question below it, so a table with only questions 1, 2, 6, 7 and 8 gets shorter captions, never
invented ones.

=============  =====================  ==============================  ======================================
feature        columns                branch that must be stated      canonical phrase per answer
=============  =====================  ==============================  ======================================
shape          Class1.1-1.3           none (every volunteer answers)  with a smooth light profile /
                                                                      showing features or a disk /
                                                                      resembling a star or artifact
roundness      Class7.1-7.3           shape: smooth                   completely round / moderately
                                                                      elongated / cigar shaped
edge_on        Class2.1-2.2           shape: features/disk            seen edge on / seen face on
edge_on_bulge  Class9.1-9.3           edge_on: yes                    with a rounded bulge / with a boxy
                                                                      bulge / with no visible bulge
bar            Class3.1-3.2           edge_on: no                     with a bar / without a bar
arms           Class4.1-4.2           edge_on: no                     with spiral arms / without spiral arms
arm_count      Class11.1-11.6         arms: yes                       with one arm / with two arms / with
                                                                      three arms / with four arms / with
                                                                      more than four arms / with an unclear
                                                                      number of arms
winding        Class10.1-10.3         arms: yes                       tightly wound / moderately wound /
                                                                      loosely wound
bulge          Class5.1-5.4           edge_on: no                     with no central bulge / with a just
                                                                      noticeable bulge / with an obvious
                                                                      bulge / with a dominant bulge
odd            Class8.1-8.7           Class6.1 >= odd_min             with a ring / with a lens or arc /
                                                                      looking disturbed / irregular in
                                                                      shape / merging with a neighbour /
                                                                      with a dust lane ("other": never)
=============  =====================  ==============================  ======================================

Each galaxy gets ``phrasings`` references with the same content: phrasing k uses the k-th synonym of
every phrase (``CAPTION_FEATURES``, ``CLASS_PHRASES``), and the last one lists the clauses in reverse order.
Phrasing 0 is the canonical caption. Captions are lower case, with words and commas separated by single
spaces, so ``sentence.split()`` is the tokeniser everywhere.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gzmorph.errors import GzmorphError
from gzmorph.gz2.tree import QUESTION_BY_NUMBER, Question, question_of

SYNONYMS = 3  # phrases per answer and per class, hence the most distinct phrasings a galaxy can get
CLAUSE_SEPARATOR = ","
PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, START, END, UNK)  # PAD first: index 0 is what padding and masks use


@dataclass(frozen=True)
class CaptionConfig:
    """Thresholds of the caption templates (the ``build_captions`` section of params.yaml).

    confident: an answer is stated when more than this share of the volunteers who reached its question
        gave it (0.5: a strict majority).
    odd_min: Class6.1 ("something odd") needed before any odd feature (question 8) is stated.
    phrasings: reference phrasings per galaxy, 1 to 3; the first is canonical.
    complete: the training and validation galaxies' references fill the questions their catalogue lacks from
        the classifier's answers, where another source taught it them (gzmorph.training.completion).
    """

    confident: float = 0.5
    odd_min: float = 0.4
    phrasings: int = 3
    complete: bool = True

    def __post_init__(self):
        for name in ("confident", "odd_min"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise GzmorphError(f"build_captions.{name} is {value}; it is a vote fraction, between 0 and 1")
        if not 1 <= self.phrasings <= SYNONYMS:
            raise GzmorphError(f"build_captions.phrasings is {self.phrasings}; it must be between 1 and {SYNONYMS}")


@dataclass(frozen=True)
class Feature:
    """One question's contribution to a caption: per answer (as ``tree`` names it), its SYNONYMS phrases."""

    name: str
    question: Question
    phrases: dict[str, tuple[str, ...]]  # answers without a phrase (question 8 "other") are never stated


def _feature(name: str, number: int, phrases: dict[str, tuple[str, ...]]) -> Feature:
    return Feature(name, QUESTION_BY_NUMBER[number], phrases)


CAPTION_FEATURES: tuple[Feature, ...] = (
    _feature("shape", 1, {
        "smooth": ("with a smooth light profile", "smooth looking", "of smooth appearance"),
        "features or disk": ("showing features or a disk", "with visible structure", "featured or disky"),
        "star or artifact": ("resembling a star or artifact", "possibly a star or artifact",
                             "star like or an artifact"),
    }),
    _feature("roundness", 7, {
        "completely round": ("completely round", "perfectly round", "round in outline"),
        "in between": ("moderately elongated", "somewhat oval", "between round and elongated"),
        "cigar-shaped": ("cigar shaped", "strongly elongated", "elongated like a cigar"),
    }),
    _feature("edge_on", 2, {
        "yes": ("seen edge on", "viewed edge on", "edge on to us"),
        "no": ("seen face on", "not edge on", "viewed from above"),
    }),
    _feature("edge_on_bulge", 9, {
        "rounded": ("with a rounded bulge", "whose bulge looks rounded", "with a bulge of rounded shape"),
        "boxy": ("with a boxy bulge", "whose bulge looks boxy", "with a bulge of boxy shape"),
        "no bulge": ("with no visible bulge", "whose bulge is absent", "lacking a bulge"),
    }),
    _feature("bar", 3, {
        "yes": ("with a bar", "barred", "with a central bar"),
        "no": ("without a bar", "unbarred", "with no bar"),
    }),
    _feature("arms", 4, {
        "yes": ("with spiral arms", "showing spiral arms", "with a spiral pattern"),
        "no": ("without spiral arms", "with no spiral arms", "lacking spiral arms"),
    }),
    _feature("arm_count", 11, {
        "1": ("with one arm", "one armed", "with a single arm"),
        "2": ("with two arms", "two armed", "with a pair of arms"),
        "3": ("with three arms", "three armed", "with a trio of arms"),
        "4": ("with four arms", "four armed", "with a quartet of arms"),
        "more than four": ("with more than four arms", "many armed", "with five or more arms"),
        "can't tell": ("with an unclear number of arms", "with arms hard to count", "whose arms cannot be counted"),
    }),
    _feature("winding", 10, {
        "tight": ("tightly wound", "with tight winding", "with tightly coiled arms"),
        "medium": ("moderately wound", "with medium winding", "with moderately coiled arms"),
        "loose": ("loosely wound", "with loose winding", "with loosely coiled arms"),
    }),
    _feature("bulge", 5, {
        "no bulge": ("with no central bulge", "bulgeless", "without any bulge"),
        "just noticeable": ("with a just noticeable bulge", "with a small bulge", "whose bulge is faint"),
        "obvious": ("with an obvious bulge", "with a clear bulge", "whose bulge is prominent"),
        "dominant": ("with a dominant bulge", "with a bulge that dominates", "whose bulge dominates"),
    }),
    _feature("odd", 8, {
        "ring": ("with a ring", "ringed", "showing a ring"),
        "lens or arc": ("with a lens or arc", "showing a lens or arc", "with a gravitational arc or lens"),
        "disturbed": ("looking disturbed", "disturbed", "with a disturbed shape"),
        "irregular": ("irregular in shape", "irregular", "of irregular form"),
        "merger": ("merging with a neighbour", "in a merger", "interacting with another galaxy"),
        "dust lane": ("with a dust lane", "crossed by a dust lane", "showing a dust lane"),
    }),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in CAPTION_FEATURES)
# The fine features, which only questions 3, 4, 5, 9, 10 and 11 give: what a caption says beyond the shape.
FINE_FEATURES: dict[str, tuple[str, ...]] = {"bar": ("bar",), "arms": ("arms", "arm_count", "winding"),
                                             "bulge": ("bulge", "edge_on_bulge")}
FEATURE_BY_QUESTION: dict[int, Feature] = {f.question.number: f for f in CAPTION_FEATURES}
ODD_GATE_QUESTION = 6  # "anything odd?" has no clause of its own; Class6.1 gates question 8 via odd_min

# Indexed like gzmorph.gz2.rule.CLASSES: spiral, elliptical, edge-on, merger, ambiguous.
CLASS_PHRASES: tuple[tuple[str, ...], ...] = (
    ("a spiral galaxy", "a spiral type galaxy", "a galaxy of spiral type"),
    ("an elliptical galaxy", "an elliptical type galaxy", "a galaxy of elliptical type"),
    ("an edge-on disk galaxy", "a disk galaxy seen edge-on", "a galaxy of edge-on disk type"),
    ("a merging galaxy", "a galaxy merger", "a galaxy of merger type"),
    ("a galaxy of uncertain type", "an ambiguous galaxy", "a galaxy hard to classify"),
)


# ---- templates: votes -> captions ----

def _branch_taken(votes: pd.Series, feature: Feature, stated: dict[str, str], config: CaptionConfig) -> bool:
    """Whether the answer leading to the feature's question is stated (for question 8: Class6.1 >= odd_min).

    Requiring the whole path to be confident also keeps deep answers off a handful of votes: with
    ``confident`` 0.5, a question two branches down was reached by more than a quarter of the volunteers.
    """
    parent = feature.question.parent
    if parent is None:
        return True
    if parent not in votes.index:
        return False
    parent_question = question_of(parent)
    if parent_question.number == ODD_GATE_QUESTION:
        return float(votes[parent]) >= config.odd_min
    parent_feature = FEATURE_BY_QUESTION.get(parent_question.number)
    leading_answer = parent_question.answers[parent_question.columns.index(parent)]
    return parent_feature is not None and stated.get(parent_feature.name) == leading_answer


def _confident_answer(votes: pd.Series, question: Question, config: CaptionConfig) -> str | None:
    """The question's most popular answer if more than ``confident`` of those who reached it gave it."""
    total = 1.0 if question.parent is None else float(votes[question.parent])
    if total <= 0:  # nobody reached it (possible only with odd_min 0)
        return None
    shares = votes[question.columns].to_numpy(dtype=float) / total
    best = int(np.argmax(shares))
    return question.answers[best] if shares[best] > config.confident else None


def stated_features(votes: pd.Series, config: CaptionConfig = CaptionConfig()) -> dict[str, str]:
    """Feature name -> the answer a caption states, for each feature of a galaxy whose threshold is met."""
    stated: dict[str, str] = {}
    for feature in CAPTION_FEATURES:  # parents come before children, so the branch test sees its parent's answer
        if not set(feature.question.columns) <= set(votes.index):
            continue
        if not _branch_taken(votes, feature, stated, config):
            continue
        answer = _confident_answer(votes, feature.question, config)
        if answer in feature.phrases:
            stated[feature.name] = answer
    return stated


def _sentence(class_index: int, features: dict[str, str], phrasing: int) -> str:
    clauses = [f.phrases[features[f.name]][phrasing] for f in CAPTION_FEATURES if f.name in features]
    if phrasing == SYNONYMS - 1:
        clauses.reverse()  # the last phrasing also varies the clause order
    words = [CLASS_PHRASES[class_index][phrasing]]
    if clauses:
        words.append(f" {CLAUSE_SEPARATOR} ".join(clauses))
    return " ".join(words)


def galaxy_captions(votes: pd.Series, class_index: int, config: CaptionConfig = CaptionConfig()) -> list[str]:
    """``config.phrasings`` captions of one galaxy with the same content; the first is canonical."""
    features = stated_features(votes, config)
    return [_sentence(class_index, features, k) for k in range(config.phrasings)]


def table_captions(votes: pd.DataFrame, class_indices: Sequence[int],
                   config: CaptionConfig = CaptionConfig()) -> list[list[str]]:
    """``galaxy_captions`` for every row of a vote table, with each row's rule class."""
    if len(votes) != len(class_indices):
        raise ValueError(f"{len(votes)} vote rows but {len(class_indices)} class indices")
    return [galaxy_captions(row, int(c), config) for (_, row), c in zip(votes.iterrows(), class_indices)]


def as_sentence(caption: str) -> str:
    """A caption as people write it ("a, b", not the token form "a , b" that BLEU and the parser read)."""
    return caption.replace(f" {CLAUSE_SEPARATOR} ", f"{CLAUSE_SEPARATOR} ")


# ---- parsing: caption -> content (for any phrasing, and for generated captions) ----

def _phrase_index() -> dict[tuple[str, ...], tuple[str, str]]:
    """Every phrase's tokens -> (feature, answer); phrases must not be shared between answers."""
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    for feature in CAPTION_FEATURES:
        for answer, phrases in feature.phrases.items():
            for phrase in phrases:
                key = tuple(phrase.split())
                if index.setdefault(key, (feature.name, answer)) != (feature.name, answer):
                    raise ValueError(f"caption phrase {phrase!r} is used for two answers")
    return index


PHRASE_INDEX = _phrase_index()
LONGEST_PHRASE = max(len(key) for key in PHRASE_INDEX)
CLASS_INDEX: dict[tuple[str, ...], int] = {
    tuple(phrase.split()): class_index
    for class_index, phrases in enumerate(CLASS_PHRASES) for phrase in phrases
}


def _class_prefix(tokens: list[str]) -> tuple[int | None, int]:
    """The class a caption's leading words name and how many words that took; longest phrase first."""
    for length in sorted({len(key) for key in CLASS_INDEX}, reverse=True):
        class_index = CLASS_INDEX.get(tuple(tokens[:length]))
        if class_index is not None:
            return class_index, length
    return None, 0


def implied_class(sentence: str) -> int | None:
    """The class index (into gzmorph.gz2.rule.CLASSES) a caption's class phrase names; None if it names none."""
    return _class_prefix(sentence.split())[0]


def parse_features(sentence: str) -> dict[str, str]:
    """Feature name -> answer for every feature phrase in a caption (any phrasing; first mention wins).

    Scans left to right taking the longest phrase that starts at each word, so a phrase inside a longer
    one ("spiral arms" in "without spiral arms") is not misread; words that start no phrase are skipped,
    which keeps generated captions with stray words readable.
    """
    tokens = sentence.split()
    position = _class_prefix(tokens)[1]
    features: dict[str, str] = {}
    while position < len(tokens):
        for length in range(min(LONGEST_PHRASE, len(tokens) - position), 0, -1):
            match = PHRASE_INDEX.get(tuple(tokens[position:position + length]))
            if match is not None:
                features.setdefault(*match)
                position += length
                break
        else:
            position += 1
    return features


# ---- vocabulary and encoding ----

def build_vocab(sentences: Iterable[str]) -> list[str]:
    """Special tokens (<pad> = 0, <start>, <end>, <unk>), then every word of ``sentences``, sorted."""
    words = {word for sentence in sentences for word in sentence.split()}
    return list(SPECIAL_TOKENS) + sorted(words - set(SPECIAL_TOKENS))


def vocab_index(vocab: Sequence[str]) -> dict[str, int]:
    return {word: i for i, word in enumerate(vocab)}


def class_openings(class_indices: Iterable[int], vocab: Sequence[str]) -> list[list[list[int]]]:
    """Per class index, the token ids of its phrases that ``vocab`` spells: what a caption of that class may
    open with (a vocabulary without any of them leaves that class's captions free)."""
    index = vocab_index(vocab)
    spelled = [[[index[word] for word in phrase.split()] for phrase in phrases
                if all(word in index for word in phrase.split())] for phrases in CLASS_PHRASES]
    return [spelled[int(c)] for c in class_indices]


def encoded_length(sentence: str) -> int:
    """Tokens ``encode_caption`` needs for a caption: its words plus <start> and <end>."""
    return len(sentence.split()) + 2


def encode_caption(sentence: str, index: dict[str, int], max_len: int) -> np.ndarray:
    """<start>, the caption's word ids (<unk> for unknown words), <end>, then <pad> (0) up to ``max_len``."""
    needed = encoded_length(sentence)
    if needed > max_len:
        # Cutting the caption would drop its end token and part of its content without a word.
        raise GzmorphError(f"a caption needs {needed} tokens with <start> and <end> but max_len is {max_len}; "
                           f"raise max_len to at least {needed}")
    ids = np.full(max_len, index[PAD], dtype=np.int32)
    words = [START, *sentence.split(), END]
    ids[:needed] = [index.get(word, index[UNK]) for word in words]
    return ids


def decode_caption(ids: Iterable[int], vocab: Sequence[str]) -> str:
    """The words of a token-id sequence up to the first <end>, special tokens left out."""
    words = []
    for token_id in ids:
        word = vocab[int(token_id)]
        if word == END:
            break
        if word not in SPECIAL_TOKENS:
            words.append(word)
    return " ".join(words)
