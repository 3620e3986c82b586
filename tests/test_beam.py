import itertools

import numpy as np
import pytest

from gzmorph.models.beam import beam_search, greedy_decode, length_normalised

START, END = 0, 1


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def random_recurrent_step(seed: int, vocab_size: int = 7, hidden: int = 5):
    """A toy recurrent decoder: the state is (image features, hidden state), like the captioner's."""
    rng = np.random.default_rng(seed)
    embed = rng.normal(size=(vocab_size, hidden))
    recur, image, out = (rng.normal(size=(hidden, hidden)), rng.normal(size=(hidden, hidden)),
                         rng.normal(size=(hidden, vocab_size)) * 2)

    end_bias = np.eye(vocab_size)[END]  # so that some captions end before max_len and some do not

    def step(tokens, state):
        features, h = state
        h = np.tanh(h @ recur + embed[tokens] + features @ image)
        return log_softmax(h @ out + end_bias), (features, h)

    def initial_state(n):
        features = rng.normal(size=(n, hidden))
        return features, np.zeros((n, hidden))

    return step, initial_state


def markov_step(table: dict[int, dict[int, float]], vocab_size: int):
    """A step whose next-token distribution depends on the last token only; the state just rides along."""
    probs = np.zeros((vocab_size, vocab_size))
    for token, row in table.items():
        for following, p in row.items():
            probs[token, following] = p
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)

    def step(tokens, state):
        return log_probs[tokens], state

    def sequence_log_prob(tokens: list[int]) -> float:
        path = [START, *tokens, END]
        return float(sum(log_probs[a, b] for a, b in zip(path, path[1:])))

    return step, sequence_log_prob


@pytest.mark.parametrize("seed", range(5))
def test_width_one_equals_greedy(seed):
    step, initial_state = random_recurrent_step(seed)
    state = initial_state(16)
    greedy = greedy_decode(step, state, START, END, max_len=12)
    assert beam_search(step, state, START, END, width=1, max_len=12, length_penalty=0.0) == greedy
    assert {len(c) < 12 for c in greedy} == {True, False} and all(END not in c for c in greedy)


@pytest.mark.parametrize("seed", range(3))
def test_batched_beam_equals_one_image_at_a_time(seed):
    step, initial_state = random_recurrent_step(seed)
    state = initial_state(6)
    batched = beam_search(step, state, START, END, width=3, max_len=10, length_penalty=0.7)
    single = [beam_search(step, tuple(a[i:i + 1] for a in state), START, END, width=3, max_len=10,
                          length_penalty=0.7)[0] for i in range(6)]
    assert batched == single


def test_images_whose_search_ended_leave_the_batch():
    step, initial_state = random_recurrent_step(seed=0)
    rows_seen = []

    def counting_step(tokens, state):
        rows_seen.append(len(tokens))
        return step(tokens, state)

    state = initial_state(16)
    found = beam_search(counting_step, state, START, END, width=2, max_len=12, length_penalty=0.0)
    assert found == [beam_search(step, tuple(a[i:i + 1] for a in state), START, END, width=2, max_len=12,
                                 length_penalty=0.0)[0]
                     for i in range(16)]
    assert rows_seen[0] == 32 and rows_seen == sorted(rows_seen, reverse=True) and rows_seen[-1] < 32
    assert all(rows % 2 == 0 for rows in rows_seen)  # an image's beams leave together


def rescored(step, state, tokens: list[int], ended: bool, length_penalty: float) -> float:
    """A caption's score, recomputed by feeding it to the step function one token at a time."""
    log_prob, previous = 0.0, START
    for token in tokens + ([END] if ended else []):
        log_probs, state = step(np.array([previous]), state)
        log_prob, previous = log_prob + log_probs[0, token], token
    return length_normalised(log_prob, len(tokens) + ended, length_penalty)


def exhaustive_best(step, state, vocab_size: int, max_len: int, length_penalty: float) -> list[int]:
    """The best caption over every one that ends within max_len or runs to it."""
    words = [t for t in range(vocab_size) if t != END]
    candidates = [(list(c), True) for n in range(max_len) for c in itertools.product(words, repeat=n)]
    candidates += [(list(c), False) for c in itertools.product(words, repeat=max_len)]
    return max(candidates, key=lambda c: rescored(step, state, c[0], c[1], length_penalty))[0]


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_beam_wide_enough_to_keep_everything_finds_the_best_caption(length_penalty):
    step, initial_state = random_recurrent_step(seed=7, vocab_size=4, hidden=3)
    state = initial_state(3)
    found = beam_search(step, state, START, END, width=4 ** 3, max_len=3, length_penalty=length_penalty)
    one_by_one = [tuple(a[i:i + 1] for a in state) for i in range(3)]
    assert found == [exhaustive_best(step, s, 4, 3, length_penalty) for s in one_by_one]


# From <start>, A is likelier than B, but every continuation of A is weak while B ends for sure.
A, B, C, D = 2, 3, 4, 5
GARDEN_PATH = {START: {A: 0.6, B: 0.4}, A: {C: 0.34, D: 0.33, END: 0.33}, B: {END: 1.0}, C: {END: 1.0},
               D: {END: 1.0}}


def test_beam_finds_a_likelier_caption_than_greedy():
    step, sequence_log_prob = markov_step(GARDEN_PATH, vocab_size=6)
    state = (np.zeros((2, 1)),)
    greedy = greedy_decode(step, state, START, END, max_len=5)
    beam = beam_search(step, state, START, END, width=2, max_len=5, length_penalty=0.0)
    assert greedy == [[A, C]] * 2 and beam == [[B]] * 2
    assert sequence_log_prob(beam[0]) > sequence_log_prob(greedy[0])  # log 0.4 against log 0.204


# Ending at once has the best total log-probability (0.4); <start> A B <end> (0.33) the best per token.
SHORT_OR_LONG = {START: {END: 0.4, A: 0.6}, A: {B: 0.55, END: 0.45}, B: {END: 1.0}}


@pytest.mark.parametrize("length_penalty, expected", [(0.0, []), (1.0, [A, B])])
def test_length_penalty_trades_total_for_per_token_probability(length_penalty, expected):
    step, _ = markov_step(SHORT_OR_LONG, vocab_size=4)
    state = (np.zeros((1, 1)),)
    assert beam_search(step, state, START, END, width=3, max_len=5, length_penalty=length_penalty) == [expected]


def test_length_normalised_score():
    assert length_normalised(-6.0, 3, 0.0) == -6.0
    assert length_normalised(-6.0, 3, 1.0) == -2.0
    assert length_normalised(-8.0, 4, 0.5) == -4.0


def test_captions_that_never_end_stop_at_max_len():
    step, _ = markov_step({START: {A: 1.0}, A: {A: 1.0}}, vocab_size=3)
    state = (np.zeros((2, 1)),)
    assert greedy_decode(step, state, START, END, max_len=4) == [[A] * 4] * 2
    assert beam_search(step, state, START, END, width=2, max_len=4, length_penalty=0.0) == [[A] * 4] * 2


def test_beam_width_must_be_positive():
    step, _ = markov_step(GARDEN_PATH, vocab_size=6)
    with pytest.raises(ValueError, match="width"):
        beam_search(step, (np.zeros((1, 1)),), START, END, width=0, max_len=3, length_penalty=0.0)


# The likely caption is 2 3 6 (p 0.86); 4 and 5 are unlikely but end at once (0.05 each), and so does
# 2 3 (0.009). With width 3 those three finish before the likely caption can.
FINISH_FIRST = {START: {2: 0.9, 4: 0.05, 5: 0.05}, 2: {3: 0.97, END: 0.03}, 3: {6: 0.99, END: 0.01},
                4: {END: 1.0}, 5: {END: 1.0}, 6: {END: 1.0}}


@pytest.mark.parametrize("length_penalty", [0.0, 0.7])
def test_a_likely_caption_is_found_after_unlikely_ones_have_finished(length_penalty):
    step, _ = markov_step(FINISH_FIRST, vocab_size=7)
    found = beam_search(step, (np.zeros((1, 1)),), START, END, width=3, max_len=8, length_penalty=length_penalty)
    assert found == [[2, 3, 6]]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("width", [1, 3])
def test_held_to_openings_every_caption_opens_with_one_of_its_own(seed, width):
    step, initial_state = random_recurrent_step(seed)
    state = initial_state(12)
    # Per image: two openings sharing a first token, one opening, or none (free).
    choices = [[[2, 3], [2, 4, 5]], [[6]], []]
    openings = [choices[i % 3] for i in range(12)]
    if width == 1:
        held = greedy_decode(step, state, START, END, 10, openings)
        free = greedy_decode(step, state, START, END, 10)
    else:
        held = beam_search(step, state, START, END, width, 10, 0.7, openings)
        free = beam_search(step, state, START, END, width, 10, 0.7)
    for tokens, own, unheld in zip(held, openings, free):
        assert any(tokens[:len(c)] == c for c in own) if own else tokens == unheld


def test_a_held_beam_keeps_the_best_caption_among_those_with_the_opening():
    # Unheld, 2 -> end is best; held to [3], the beam must find 3 -> 4 -> end, the best caption opening with 3.
    table = {START: {2: 0.6, 3: 0.4}, 2: {END: 1.0}, 3: {4: 0.7, 5: 0.3}, 4: {END: 1.0}, 5: {END: 1.0}}
    step, _ = markov_step(table, vocab_size=6)
    state = (np.zeros((1, 1)),)
    assert beam_search(step, state, START, END, 2, 5, 0.0) == [[2]]
    assert beam_search(step, state, START, END, 2, 5, 0.0, [[[3]]]) == [[3, 4]]
