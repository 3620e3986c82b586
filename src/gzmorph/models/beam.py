"""Greedy and beam-search decoding over any step function, batched over images.

A step function advances a batch of n partial captions by one token::

    step(tokens: np.ndarray (n,), state: tuple[np.ndarray, ...]) -> (log_probs (n, V), new_state)

Every state array has leading dimension n; whatever the decoder needs besides the last token (the image
features, recurrent states) travels in the state, so beam search only has to repeat, reorder and drop
rows (it drops the rows of images whose search has ended).
Both decoders return, per image, the generated token ids without the start and end tokens. ``max_len``
is the most tokens a caption may generate, its end token included; a caption that has not ended by then
is returned as it stands. Both can be held to ``openings``: per image, the token sequences its caption
must start with one of (the predicted class's phrases, so that a caption never names another class); an
image with none is free.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

State = tuple[np.ndarray, ...]
StepFn = Callable[[np.ndarray, State], tuple[np.ndarray, State]]
Hypothesis = tuple[float, list[int]]  # (length-normalised score, token ids without start and end)
Openings = list[list[list[int]]]  # per image, the token sequences its caption may start with (none: any)


def _batch_size(state: State) -> int:
    return int(state[0].shape[0])


def _until_end(tokens: list[int], end: int) -> list[int]:
    return tokens[:tokens.index(end)] if end in tokens else tokens


def greedy_decode(step: StepFn, state: State, start: int, end: int, max_len: int,
                  openings: Openings | None = None) -> list[list[int]]:
    """The most probable next token at every step (within ``openings``), for each image of the batch."""
    n = _batch_size(state)
    tokens = np.full(n, start, dtype=np.int32)
    generated = []
    ended = np.zeros(n, dtype=bool)
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        if openings is not None:
            so_far = np.stack(generated, axis=1) if generated else np.zeros((n, 0), np.int32)
            log_probs = log_probs + opening_mask(openings, so_far, log_probs.shape[1])
        tokens = np.argmax(log_probs, axis=1).astype(np.int32)
        generated.append(tokens)
        ended |= tokens == end
        if ended.all():
            break
    columns = np.stack(generated, axis=1) if generated else np.zeros((n, 0), dtype=np.int32)
    return [_until_end(row.tolist(), end) for row in columns]


def opening_mask(openings: Openings, generated: np.ndarray, vocab_size: int) -> np.ndarray:
    """(rows, V): 0 for the tokens that keep each row's caption on the way to one of its openings (every token
    once it has made one, or when it has none), -inf for the rest. ``generated``: each row's tokens so far."""
    mask = np.zeros((len(openings), vocab_size))
    so_far = generated.shape[1]
    if so_far >= max((len(c) for choices in openings for c in choices), default=0):
        return mask  # past every opening: nothing left to hold
    for row, (choices, tokens) in enumerate(zip(openings, generated.tolist())):
        if not choices or any(len(c) <= so_far and tokens[:len(c)] == c for c in choices):
            continue
        mask[row] = -np.inf
        mask[row, [c[so_far] for c in choices if len(c) > so_far and c[:so_far] == tokens]] = 0.0
    return mask


def length_normalised(log_prob: float, length: int, length_penalty: float) -> float:
    """A hypothesis's score: its summed log-probability over length**length_penalty.

    ``length`` counts the generated tokens, end included. 0 ranks by total log-probability, which favours
    short captions (every token costs probability); 1 ranks by mean log-probability per token; values in
    between trade the two (Wu et al. 2016 use a similar exponent).
    """
    return log_prob / max(length, 1) ** length_penalty


def _tile(state: State, width: int) -> State:
    """Each image's state rows repeated ``width`` times: row image * width + beam."""
    return tuple(np.repeat(array, width, axis=0) for array in state)


def _gather(state: State, rows: np.ndarray) -> State:
    return tuple(array[rows] for array in state)


def _initial_scores(n: int, width: int) -> np.ndarray:
    # All beams of an image start identical; only the first may expand, or the first step would fill the
    # beam with copies of one hypothesis.
    scores = np.full((n, width), -np.inf)
    scores[:, 0] = 0.0
    return scores


def _top_candidates(candidates: np.ndarray, width: int) -> np.ndarray:
    """Per image, the flat (beam * V + token) indices of the ``width`` best candidates, best first.

    Among ties the lowest index wins, as np.argmax does, so width 1 matches greedy. A partition finds
    each row's width-th best score in linear time; only the ``width`` chosen candidates get sorted.
    """
    rows, count = candidates.shape
    if width >= count:
        return np.argsort(-candidates, axis=1, kind="stable")[:, :width]
    threshold = np.partition(candidates, count - width, axis=1)[:, count - width, None]
    better, tied = candidates > threshold, candidates == threshold
    room = width - better.sum(axis=1, keepdims=True)  # places left for the tied, lowest index first
    chosen = better | (tied & (np.cumsum(tied, axis=1) <= room))
    indices = np.nonzero(chosen)[1].reshape(rows, width)
    order = np.argsort(-np.take_along_axis(candidates, indices, axis=1), axis=1, kind="stable")
    return np.take_along_axis(indices, order, axis=1)


def beam_search(step: StepFn, state: State, start: int, end: int, width: int, max_len: int,
                length_penalty: float, openings: Openings | None = None) -> list[list[int]]:
    """For each image, the best of the hypotheses a beam of ``width`` finds (see ``length_normalised``).

    At each step every live beam is extended by every token and the ``width`` best extensions by summed
    log-probability survive, their state rows gathered from the beam each came from. An extension that
    ends the caption leaves the beam as a finished hypothesis; an image stops once ``width`` hypotheses
    have finished and none of its live beams can beat the best of them (or at ``max_len``, when its live
    beams count as hypotheses too), and its rows leave the state, so the step function only ever
    computes images still searching. Width 1 is greedy.
    """
    if width < 1:
        raise ValueError(f"beam width must be at least 1, got {width}")
    n = _batch_size(state)
    state = _tile(state, width)
    tokens = np.full(n * width, start, dtype=np.int32)
    scores = _initial_scores(n, width)
    sequences = np.zeros((n, width, 0), dtype=np.int32)
    finished: list[list[Hypothesis]] = [[] for _ in range(n)]
    live = np.arange(n)  # the images still searching, in the order of the state's rows
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        vocab_size = log_probs.shape[1]
        if openings is not None:
            rows_of = [openings[image] for image in live for _ in range(width)]
            log_probs = log_probs + opening_mask(rows_of, sequences[live].reshape(len(live) * width, -1), vocab_size)
        candidates = (scores[live, :, None] + log_probs.reshape(len(live), width, vocab_size)).reshape(len(live), -1)
        best = _top_candidates(candidates, width)
        origin, new_tokens = best // vocab_size, (best % vocab_size).astype(np.int32)
        scores[live] = np.take_along_axis(candidates, best, axis=1)
        sequences = np.concatenate([sequences, np.zeros((n, width, 1), np.int32)], axis=2)
        sequences[live] = np.concatenate(
            [np.take_along_axis(sequences[live, :, :-1], origin[:, :, None], axis=1), new_tokens[:, :, None]], axis=2)
        _retire_finished(live, scores, sequences, new_tokens == end, finished, length_penalty)
        searching = np.array([_may_improve(finished[i], scores[i], width, max_len, length_penalty) for i in live])
        if not searching.any():
            live = live[searching]
            break
        rows = (np.arange(len(live))[:, None] * width + origin)[searching].reshape(-1)
        state, tokens, live = _gather(state, rows), new_tokens[searching].reshape(-1), live[searching]
    _retire_unfinished(live, scores, sequences, finished, length_penalty)
    return [max(hypotheses, key=lambda h: h[0])[1] if hypotheses else [] for hypotheses in finished]


def _may_improve(hypotheses: list[Hypothesis], scores: np.ndarray, width: int, max_len: int,
                 length_penalty: float) -> bool:
    """Whether an image's live beams (``scores``) should go on: until ``width`` hypotheses have finished,
    and after that while the best live beam could still beat the best of them. Log-probabilities only
    fall as tokens are added, so no continuation scores above the live score normalised at ``max_len``."""
    live = scores[np.isfinite(scores)]
    if live.size == 0:
        return False
    if len(hypotheses) < width:
        return True
    return length_normalised(live.max(), max_len, length_penalty) > max(score for score, _ in hypotheses)


def _retire_finished(live: np.ndarray, scores: np.ndarray, sequences: np.ndarray, ended: np.ndarray,
                     finished: list[list[Hypothesis]], length_penalty: float) -> None:
    """Move the beams of ``live`` images that just produced the end token into ``finished`` and out of the beam."""
    for position, beam in zip(*np.nonzero(ended & np.isfinite(scores[live]))):
        image = live[position]
        tokens = sequences[image, beam].tolist()
        finished[image].append((length_normalised(scores[image, beam], len(tokens), length_penalty), tokens[:-1]))
        scores[image, beam] = -np.inf


def _retire_unfinished(live: np.ndarray, scores: np.ndarray, sequences: np.ndarray,
                       finished: list[list[Hypothesis]], length_penalty: float) -> None:
    """At max_len, the live beams of images still searching become hypotheses as they stand."""
    for image in live:
        for beam in np.flatnonzero(np.isfinite(scores[image])):
            tokens = sequences[image, beam].tolist()
            finished[image].append((length_normalised(scores[image, beam], len(tokens), length_penalty), tokens))
