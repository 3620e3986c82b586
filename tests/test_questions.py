"""Per-question figures: conditional answer shares and reach from the product columns, and the RMSE and
majority accuracy of each GZ2 question on the galaxies that reached it."""
import json
import math

import numpy as np
import pytest

from gzmorph.gz2.tree import QUESTION_BY_NUMBER, QUESTIONS, VOTE_COLUMNS, answer_means, answers_and_reach
from gzmorph.inference.questions import question_metrics

KAGGLE_SUBSET = (1, 2, 6, 7, 8)  # the 17 columns of Kaggle's table


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


def unknown_but(numbers, rows: int) -> np.ndarray:
    """A true table knowing only the questions ``numbers``, to be filled in by the test."""
    votes = np.full((rows, len(VOTE_COLUMNS)), np.nan)
    for number in numbers:
        votes[:, columns_of(number)] = 0.0
    return votes


def means(votes: np.ndarray) -> list[float | None]:
    return [None if np.isnan(votes[:, c]).all() else float(np.nanmean(votes[:, c])) for c in range(votes.shape[1])]


def score(predicted, true, column_constant=None, answer_constant=None, reach_min=0.3):
    nothing = [None] * len(VOTE_COLUMNS)
    return question_metrics(predicted, true, column_constant or nothing, answer_constant or nothing,
                            resamples=200, seed=0, reach_min=reach_min)


def test_a_perfect_prediction_scores_zero_error_and_full_accuracy_in_every_resample():
    true = products_from(random_shares(60))
    metrics = score(true, true, means(true), answer_means(true))
    assert len(metrics) == len(QUESTIONS)
    for figures in metrics.values():
        assert figures["galaxies"] == 60 and figures["columns_rmse"] == 0
        assert figures["ci95"]["columns_rmse"] == {"low": 0.0, "high": 0.0}
        assert figures["reached"] > 0 and figures["answers_rmse"] == 0
        assert figures["ci95"]["answers_rmse"] == {"low": 0.0, "high": 0.0}
    for key in ("q2_edge_on", "q3_bar", "q4_spiral_arms", "q6_anything_odd"):
        assert metrics[key]["majority_accuracy"] == 1
        assert metrics[key]["ci95"]["majority_accuracy"] == {"low": 1.0, "high": 1.0}


def test_predicting_the_column_constants_scores_as_the_constant_baseline():
    true = products_from(random_shares(40))
    constant = means(true)
    metrics = score(np.tile(constant, (40, 1)), true, constant)
    for figures in metrics.values():
        assert figures["columns_rmse"] == figures["columns_rmse_constant"] > 0


def test_a_question_no_row_knows_is_left_out():
    true = products_from(random_shares(10))
    true[:, columns_of(10)] = np.nan
    true[3, columns_of(4)] = np.nan
    metrics = score(products_from(random_shares(10, seed=1)), true)
    assert "q10_arm_winding" not in metrics and len(metrics) == len(QUESTIONS) - 1
    assert metrics["q4_spiral_arms"]["galaxies"] == 9 and metrics["q11_arm_count"]["galaxies"] == 10


def test_kaggles_17_columns_give_their_five_questions():
    true = products_from(random_shares(10))
    for q in QUESTIONS:
        if q.number not in KAGGLE_SUBSET:
            true[:, columns_of(q.number)] = np.nan
    metrics = score(products_from(random_shares(10, seed=1)), true, means(true), answer_means(true))
    assert set(metrics) == {"q1_smooth_or_features", "q2_edge_on", "q6_anything_odd", "q7_roundness",
                            "q8_odd_feature"}
    assert all("columns_rmse_constant" in figures for figures in metrics.values())


def bar_table():
    """Three galaxies knowing only the bar question, by hand: the second reached by 0.2 of volunteers."""
    true, predicted = unknown_but([3], 3), np.full((3, len(VOTE_COLUMNS)), 0.5)
    true[:, columns_of(3)] = [[0.3, 0.5], [0.1, 0.1], [0.0, 0.4]]  # shares 3/8 5/8, 1/2 1/2, 0 1
    predicted[:, columns_of(3)] = [[0.4, 0.4], [0.0, 0.5], [0.1, 0.3]]  # shares 1/2 1/2, 0 1, 1/4 3/4
    return predicted, true


def test_galaxies_reached_by_fewer_than_reach_min_leave_the_share_figures_only():
    predicted, true = bar_table()
    bar = score(predicted, true)["q3_bar"]
    # Rows 1 and 3 squared share errors 1/8**2 and 1/4**2 on both answers; row 2's 1/2**2 is left out.
    assert (bar["galaxies"], bar["reached"]) == (3, 2)
    assert bar["answers_rmse"] == round(math.sqrt((1 / 64 + 1 / 16) / 2), 4)
    assert bar["columns_rmse"] == round(math.sqrt((0.01 + 0.085 + 0.01) / 3), 4)
    every = score(predicted, true, reach_min=0.1)["q3_bar"]
    assert every["reached"] == 3 and every["answers_rmse"] == round(math.sqrt((1 / 64 + 1 / 4 + 1 / 16) / 3), 4)


def test_nobody_reaching_a_question_leaves_its_product_figures_only():
    predicted, true = bar_table()
    bar = score(predicted, true, reach_min=0.9)["q3_bar"]
    assert bar["reached"] == 0 and set(bar) == {"galaxies", "columns_rmse", "reached", "ci95"}
    assert set(bar["ci95"]) == {"columns_rmse"}


def test_majority_accuracy_of_the_yes_no_questions_by_hand():
    true, predicted = unknown_but([1, 2], 5), np.full((5, len(VOTE_COLUMNS)), 0.5)
    true[:, columns_of(1)] = [0.2, 0.8, 0.0]  # every row reaches Q2 by 0.8
    true[:, columns_of(2)] = np.array([[0.7, 0.3], [0.2, 0.8], [0.9, 0.1], [0.4, 0.6], [0.1, 0.9]]) * 0.8
    predicted[:, columns_of(2)] = [[0.6, 0.4], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9], [0.2, 0.8]]
    answer_constant = [0.5] * len(VOTE_COLUMNS)
    answer_constant[columns_of(2)[0]:columns_of(2)[-1] + 1] = [0.55, 0.45]
    metrics = score(predicted, true, answer_constant=answer_constant)
    # Majorities by row: the volunteers' yes no yes no no, the model's yes yes no no no, the constant's yes.
    assert metrics["q2_edge_on"]["majority_accuracy"] == 0.6
    assert metrics["q2_edge_on"]["majority_accuracy_constant"] == 0.4
    assert "majority_accuracy" not in metrics["q1_smooth_or_features"]


def test_a_constant_training_lacked_drops_its_baseline_figures_only():
    predicted, true = bar_table()
    column_constant, answer_constant = [0.2] * len(VOTE_COLUMNS), [0.5] * len(VOTE_COLUMNS)
    column_constant[columns_of(3)[1]] = None
    bar = score(predicted, true, column_constant, answer_constant)["q3_bar"]
    assert [key for key in bar if key.endswith("_constant")] == ["answers_rmse_constant", "majority_accuracy_constant"]
    bar = score(predicted, true)["q3_bar"]
    assert not [key for key in bar if key.endswith("_constant")] and "majority_accuracy" in bar


def numbers_at_the_leaves(tree) -> bool:
    if isinstance(tree, dict):
        return all(isinstance(k, str) and numbers_at_the_leaves(v) for k, v in tree.items())
    return type(tree) in (int, float) and math.isfinite(tree)


def test_the_figures_are_plain_json_numbers_as_dvc_metrics_diff_reads_them():
    true = products_from(random_shares(30))
    metrics = score(products_from(random_shares(30, seed=1)), true, means(true), answer_means(true))
    assert numbers_at_the_leaves(metrics) and json.loads(json.dumps(metrics)) == metrics


def test_answer_means_count_only_galaxies_that_reached_the_question():
    _, true = bar_table()
    constant = answer_means(true)
    assert constant[columns_of(3)[0]:columns_of(3)[-1] + 1] == pytest.approx([3 / 16, 13 / 16])
    assert sum(value is None for value in constant) == len(VOTE_COLUMNS) - 2


def test_predictions_of_another_shape_are_refused():
    with pytest.raises(ValueError, match="predicted"):
        score(np.zeros((2, len(VOTE_COLUMNS))), np.zeros((3, len(VOTE_COLUMNS))))


def test_the_constants_figures_have_intervals_too():
    true = products_from(random_shares(40, seed=3))
    metrics = score(products_from(random_shares(40, seed=4)), true, means(true), answer_means(true))
    bar = metrics["q3_bar"]
    for figure in ("columns_rmse_constant", "answers_rmse_constant", "majority_accuracy_constant"):
        assert bar["ci95"][figure]["low"] <= bar[figure] <= bar["ci95"][figure]["high"]
