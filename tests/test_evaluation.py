import numpy as np
import pytest

from gzmorph.inference.evaluation import example_rows
from gzmorph.inference.metrics import classification_metrics, vote_rmse


def test_classification_metrics_on_a_hand_computed_case():
    true = np.array([0, 0, 1, 1, 3, 4])
    predicted = np.array([0, 1, 1, 1, 4, 4])
    metrics = classification_metrics(true, predicted)
    assert metrics["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    # spiral: P 1, R 1/2, F1 2/3; elliptical: P 2/3, R 1, F1 0.8; merger: 0; ambiguous: P 1/2, R 1, F1 2/3.
    classes = metrics["classes"]
    assert classes["spiral"]["recall"] == 0.5 and classes["elliptical"]["precision"] == pytest.approx(0.6667, abs=1e-4)
    assert classes["merger"]["f1"] == 0 and classes["edge-on"]["support"] == 0
    assert metrics["f1_weighted"] == pytest.approx((2 * 2 / 3 + 2 * 0.8 + 0 + 2 / 3) / 6, abs=1e-4)
    assert metrics["f1_macro"] == pytest.approx((2 / 3 + 0.8 + 0 + 0 + 2 / 3) / 5, abs=1e-4)


def test_vote_rmse_ignores_columns_the_table_lacks():
    true = np.array([[0.5, np.nan], [1.0, np.nan]])
    predicted = np.array([[0.2, 0.9], [0.6, 0.1]])
    assert vote_rmse(predicted, true) == pytest.approx(np.sqrt((0.09 + 0.16) / 2))


def test_example_rows_take_the_first_of_each_class():
    classes = np.array([1, 0, 1, 1, 4, 0])
    assert example_rows(classes, 2).tolist() == [1, 5, 0, 2, 4]
