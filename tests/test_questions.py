"""Per-question figures: conditional answer shares and reach from the product columns, and the RMSE and
majority accuracy of each GZ2 question on the galaxies that reached it."""
import numpy as np
import pytest

from gzmorph.gz2.tree import QUESTION_BY_NUMBER, QUESTIONS, VOTE_COLUMNS, answers_and_reach


def columns_of(number: int) -> list[int]:
    return [VOTE_COLUMNS.index(c) for c in QUESTION_BY_NUMBER[number].columns]


def products_from(shares: np.ndarray) -> np.ndarray:
    """Kaggle's product columns from conditional shares: each answer times its parent's product."""
    products = np.empty_like(shares)
    for q in QUESTIONS:  # every parent belongs to an earlier question
        parent = 1.0 if q.parent is None else products[:, VOTE_COLUMNS.index(q.parent)][:, None]
        products[:, columns_of(q.number)] = shares[:, columns_of(q.number)] * parent
    return products


def random_shares(rows: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shares = np.empty((rows, len(VOTE_COLUMNS)))
    for q in QUESTIONS:
        shares[:, columns_of(q.number)] = rng.dirichlet(np.ones(len(q.columns)), rows)
    return shares


def test_products_give_back_the_conditional_shares_and_the_parent_as_reach():
    shares = random_shares(20)
    products = products_from(shares)
    answers, reach = answers_and_reach(products)
    assert answers == pytest.approx(shares)
    for q in QUESTIONS:
        parent = np.ones(20) if q.parent is None else products[:, VOTE_COLUMNS.index(q.parent)]
        for column in columns_of(q.number):
            assert reach[:, column] == pytest.approx(parent)


def test_a_table_in_conditional_form_is_its_own_answers_with_reach_one():
    shares = random_shares(5)
    answers, reach = answers_and_reach(shares)
    assert answers == pytest.approx(shares) and reach == pytest.approx(np.ones_like(shares))


def test_a_question_missing_a_column_is_unknown_in_both_and_the_others_are_not():
    products = products_from(random_shares(3))
    products[1, columns_of(3)[0]] = np.nan
    answers, reach = answers_and_reach(products)
    assert np.isnan(answers[1, columns_of(3)]).all() and np.isnan(reach[1, columns_of(3)]).all()
    assert not np.isnan(answers[[0, 2]]).any() and not np.isnan(answers[1, columns_of(4)]).any()


def test_a_question_nobody_reached_has_answers_zero():
    products = products_from(random_shares(2))
    products[0, columns_of(10)] = 0.0
    answers, reach = answers_and_reach(products)
    assert (answers[0, columns_of(10)] == 0).all() and (reach[0, columns_of(10)] == 0).all()


def test_a_table_lacking_the_parent_still_gives_shares():
    votes = np.full((1, len(VOTE_COLUMNS)), np.nan)
    votes[0, columns_of(3)] = [0.1, 0.3]
    answers, reach = answers_and_reach(votes)
    assert answers[0, columns_of(3)] == pytest.approx([0.25, 0.75]) and reach[0, columns_of(3)] == pytest.approx(0.4)
    assert np.isnan(np.delete(answers[0], columns_of(3))).all()
