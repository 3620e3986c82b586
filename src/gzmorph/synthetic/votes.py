"""Simulated Galaxy Zoo 2 volunteers: each walks the decision tree once for a synthetic galaxy.

A volunteer answers each question from a probability vector that mixes what the galaxy truly is with
what volunteers say when they cannot tell, weighted by how clearly the image shows the feature asked
about (small, faint or noisy galaxies give split votes). Each galaxy's vector is further drawn from a
Dirichlet around that mean, because real volunteer crowds disagree more than a fixed coin would.

The 37 Kaggle columns are then the fraction of all volunteers who gave each answer, so every question's
answers add up to the fraction who reached it. Fractions are rounded to millionths question by question
(largest remainders within each parent's share), so the tree sums hold exactly in the written decimals.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from gzmorph.gz2.tree import QUESTIONS, VOTE_COLUMNS

if TYPE_CHECKING:
    from gzmorph.synthetic.morphology import Morphology

VOLUNTEERS = (30, 51)  # volunteers per galaxy drawn from [30, 51): about 40, as in GZ2
CROWD_CONCENTRATION = 25.0  # Dirichlet concentration: lower means crowds disagree more from galaxy to galaxy
UNITS = 1_000_000  # fractions are written in millionths, like Kaggle's six decimals

# What volunteers answer when the image does not show the feature asked about.
GUESSES: dict[int, tuple[float, ...]] = {
    1: (0.62, 0.30, 0.08),  # a featureless blob reads as smooth
    2: (0.25, 0.75),
    3: (0.15, 0.85),
    4: (0.40, 0.60),
    5: (0.15, 0.45, 0.35, 0.05),
    6: (0.18, 0.82),
    7: (0.30, 0.50, 0.20),
    8: (0.08, 0.10, 0.25, 0.17, 0.30, 0.06, 0.04),
    9: (0.50, 0.15, 0.35),
    10: (0.30, 0.40, 0.30),
    11: (0.10, 0.25, 0.10, 0.05, 0.05, 0.45),
}

ODD_ANSWERS = ("ring", "lens or arc", "disturbed", "irregular", "other", "merger", "dust lane")


def simulate_votes(m: Morphology, rng: np.random.Generator) -> dict[str, int]:
    """Vote fractions of one galaxy, in millionths per Kaggle column (VOTE_COLUMNS order)."""
    probabilities = crowd_probabilities(m, rng)
    volunteers = int(rng.integers(*VOLUNTEERS))
    counts = walk_tree(probabilities, volunteers, rng)
    return fractions_in_units(counts)


def crowd_probabilities(m: Morphology, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Per question, this galaxy's crowd's answer probabilities: truth blurred by visibility, then jittered."""
    probabilities = {}
    for number, (truth, clarity) in true_answers(m).items():
        mean = clarity * np.asarray(truth) + (1 - clarity) * np.asarray(GUESSES[number])
        mean = mean / mean.sum()
        probabilities[number] = rng.dirichlet(CROWD_CONCENTRATION * mean + 0.05)
    return probabilities


def walk_tree(probabilities: dict[int, np.ndarray], volunteers: int, rng) -> dict[int, np.ndarray]:
    """Answer counts per question after every volunteer has walked the tree once."""
    answers = {q: rng.choice(len(p), size=volunteers, p=p) for q, p in probabilities.items()}
    smooth, features = answers[1] == 0, answers[1] == 1
    edge_on = features & (answers[2] == 0)
    face_on = features & (answers[2] == 1)
    reached = {
        1: np.ones(volunteers, bool), 2: features, 3: face_on, 4: face_on, 5: face_on,
        6: np.ones(volunteers, bool), 7: smooth, 8: answers[6] == 0, 9: edge_on,
        10: face_on & (answers[4] == 0), 11: face_on & (answers[4] == 0),
    }
    return {q: np.bincount(answers[q][reached[q]], minlength=len(probabilities[q])) for q in answers}


def fractions_in_units(counts: dict[int, np.ndarray]) -> dict[str, int]:
    """Counts to fractions in millionths, each question sharing out exactly its parent's millionths."""
    units: dict[str, int] = {}
    for question in QUESTIONS:  # tree order: a parent column is always filled before its children
        total = UNITS if question.parent is None else units[question.parent]
        shares = apportion(counts[question.number], total)
        units.update(zip(question.columns, shares))
    return {column: units[column] for column in VOTE_COLUMNS}


def apportion(counts: np.ndarray, total: int) -> list[int]:
    """Integers proportional to ``counts`` summing exactly to ``total`` (largest remainder method)."""
    count_sum = int(counts.sum())
    if count_sum == 0:
        return [0] * len(counts)
    exact = counts.astype(np.int64) * total
    shares, remainders = exact // count_sum, exact % count_sum
    leftover = total - int(shares.sum())
    # Stable sort: among equal remainders the earlier answer gets the unit, so rounding is deterministic.
    for index in np.argsort(-remainders, kind="stable")[:leftover]:
        shares[index] += 1
    return [int(s) for s in shares]


def format_fraction(units: int) -> str:
    """Millionths as a plain decimal in Kaggle's style: 0.383147, 0.025, 1.0, 0.0."""
    whole, part = divmod(units, UNITS)
    digits = f"{part:06d}".rstrip("0") or "0"
    return f"{whole}.{digits}"


# --- what each galaxy truly shows, question by question --------------------------------------------


def true_answers(m: Morphology) -> dict[int, tuple[tuple[float, ...], float]]:
    """Per question: (answer probabilities of volunteers who see the galaxy clearly, how clearly they see it)."""
    seen = m.visibility
    detail = seen ** 1.5  # arms, bars and their counts need a sharper view than smooth-or-not
    return {
        1: (smooth_or_features(m), seen),
        2: (edge_on_answer(m), seen),
        3: ((0.85, 0.15) if m.bar else (0.06, 0.94), detail),
        4: (spiral_answer(m), detail),
        5: (bulge_answer(m), seen),
        6: (odd_answer(m), seen),
        7: (roundness_answer(m), seen),
        8: (odd_type_answer(m), seen),
        9: (edge_on_bulge_answer(m), seen),
        10: (winding_answer(m), detail),
        11: (arm_count_answer(m), detail),
    }


def smooth_or_features(m: Morphology) -> tuple[float, ...]:
    """Q1: disks with arms or edge-on read as features; a bulge-dominated disk splits the crowd."""
    if m.kind == "star":
        return (0.15, 0.05, 0.80)
    if m.kind == "elliptical":
        return (0.93, 0.05, 0.02)
    if m.kind == "merger":
        return (0.45, 0.52, 0.03)
    if m.kind == "irregular":
        return (0.22, 0.72, 0.06)
    if m.kind == "edge-on":
        return (0.12, 0.86, 0.02)
    structure = min(1.0, 1.6 * m.arm_strength + (0.3 if m.bar else 0.0)) if m.kind == "spiral" else 0.1
    features = 0.55 + 0.45 * structure - 0.2 * m.bulge_fraction
    features = float(np.clip(features, 0.3, 0.95))
    return (0.98 - features, features, 0.02)


def edge_on_answer(m: Morphology) -> tuple[float, ...]:
    """Q2: the thinner the projected disk, the more say edge-on."""
    if m.kind in ("elliptical", "star", "irregular"):
        return (0.08, 0.92)
    if m.kind == "edge-on":
        return (0.95, 0.05)
    thin = 1 / (1 + np.exp((m.axis_ratio - 0.3) / 0.05))
    return (0.05 + 0.9 * thin, 0.95 - 0.9 * thin)


def spiral_answer(m: Morphology) -> tuple[float, ...]:
    """Q4: arms are seen in proportion to their contrast."""
    if m.arms:
        seen = float(np.clip(0.5 + 1.2 * m.arm_strength, 0.5, 0.97))
        return (seen, 1 - seen)
    if m.kind == "irregular":
        return (0.25, 0.75)
    return (0.06, 0.94)


def bulge_answer(m: Morphology) -> tuple[float, ...]:
    """Q5: the bulge-to-total ratio read as none / just noticeable / obvious / dominant."""
    if m.kind in ("irregular", "star"):
        return (0.6, 0.3, 0.08, 0.02)
    return soft_bin(m.bulge_fraction, edges=(0.04, 0.2, 0.5), spread=0.06)


def odd_answer(m: Morphology) -> tuple[float, ...]:
    """Q6: mergers, rings, irregulars and dust lanes are odd; most galaxies are not."""
    odd = {"merger": 0.95, "irregular": 0.75}.get(m.kind, 0.08)
    if m.ring:
        odd = max(odd, 0.7)
    if m.dust_lane:
        odd = max(odd, 0.55)
    return (odd, 1 - odd)


def odd_type_answer(m: Morphology) -> tuple[float, ...]:
    """Q8: the odd feature volunteers name; each odd kind has its own answer, with some confusion."""
    named = "merger" if m.kind == "merger" else "irregular" if m.kind == "irregular" else (
        "ring" if m.ring else "dust lane" if m.dust_lane else None)
    if named is None:
        return GUESSES[8]
    weights = np.full(len(ODD_ANSWERS), 0.03)
    weights[ODD_ANSWERS.index("disturbed")] = 0.12
    weights[ODD_ANSWERS.index(named)] = 0.85 if named == "merger" else 0.75
    return tuple(weights / weights.sum())


def roundness_answer(m: Morphology) -> tuple[float, ...]:
    """Q7: the projected axis ratio read as cigar / in between / completely round."""
    cigar, between, round_ = soft_bin(m.apparent_axis_ratio, edges=(0.42, 0.8), spread=0.06)
    return (round_, between, cigar)


def edge_on_bulge_answer(m: Morphology) -> tuple[float, ...]:
    """Q9: rounded, boxy or no bulge on an edge-on disk."""
    if m.kind != "edge-on":
        return GUESSES[9]
    order = ("rounded", "boxy", "none")
    weights = np.full(3, 0.08)
    weights[order.index(m.bulge_shape)] = 0.84
    return tuple(weights)


def winding_answer(m: Morphology) -> tuple[float, ...]:
    """Q10: pitch angle read as tight (< ~14 deg), medium or loose (> ~26 deg)."""
    if not m.arms:
        return GUESSES[10]
    return soft_bin(m.pitch_deg, edges=(14.0, 26.0), spread=3.5)


def arm_count_answer(m: Morphology) -> tuple[float, ...]:
    """Q11: the arm count, with neighbouring counts and "can't tell" for the less sure."""
    if not m.arms:
        return GUESSES[11]
    weights = np.full(6, 0.02)
    index = min(m.arms, 5) - 1
    weights[index] = 0.72
    weights[max(index - 1, 0)] += 0.08
    weights[min(index + 1, 4)] += 0.08
    weights[5] = 0.10
    return tuple(weights / weights.sum())


def soft_bin(value: float, edges: tuple[float, ...], spread: float) -> tuple[float, ...]:
    """Probability of each bin between ``edges`` for a value read with Gaussian error ``spread``."""
    cumulative = np.concatenate([[0.0], ndtr((np.asarray(edges) - value) / spread), [1.0]])
    return tuple(np.diff(cumulative))
