"""Tests of the predict tests' synthetic model: what its signature claims is what it does."""

import pytest

from data.contract import TARGET
from model.artifact import load_model
from model.metrics import regression_metrics
from model.testing import synthetic_raw
from services.predict.tests.support import HOLDOUT_ROWS, HOLDOUT_SEED


def test_the_synthetic_model_reports_the_metrics_it_achieves_not_invented_ones(model_dir):
    model = load_model(model_dir)
    holdout = synthetic_raw(HOLDOUT_ROWS, seed=HOLDOUT_SEED)
    achieved = regression_metrics(list(holdout[TARGET.name]), list(model.predict(holdout)))
    reported = model.signature["metrics"]["test"]
    for key in ("rmse", "mae", "r2"):
        assert reported[key] == pytest.approx(achieved[key], abs=1e-9), key
    assert model.signature["data_hash"] == "synthetic"
