"""Tests of the regression metrics against values worked out by hand."""

import math

import pytest

from model.metrics import regression_metrics


def test_perfect_predictions():
    assert regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}


def test_known_errors():
    # errors 1 and -1 around a mean of 2: rmse 1, mae 1, r2 = 1 - 2/2 = 0
    m = regression_metrics([1.0, 3.0], [2.0, 2.0])
    assert m["rmse"] == pytest.approx(1.0)
    assert m["mae"] == pytest.approx(1.0)
    assert m["r2"] == pytest.approx(0.0)


def test_rmse_weighs_large_errors_more_than_mae():
    m = regression_metrics([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0])
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("truth", "pred", "message"),
    [([], [], "empty"), ([1.0], [1.0, 2.0], "has 1 values"), ([1.0], [math.nan], "finite")],
)
def test_bad_input_is_rejected(truth, pred, message):
    with pytest.raises(ValueError, match=message):
        regression_metrics(truth, pred)
