"""Model tests of the built artifact: directional behaviour, invariance and plausible outputs."""

import numpy as np
import pandas as pd
import pytest

from data.contract import FEATURE_NAMES, TARGET
from model.artifact import load_model
from model.testing import built_model_dir, features_files


@pytest.fixture(scope="module")
def model():
    return load_model(built_model_dir())


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """1,000 real test rows (raw columns only), a fixed sample."""
    test = pd.read_parquet(features_files()["test.parquet"])
    return test.loc[:, list(FEATURE_NAMES)].sample(n=1000, random_state=0).reset_index(drop=True)


@pytest.mark.parametrize("factor", [1.1, 1.5])
def test_higher_income_does_not_lower_predictions_on_average(model, sample, factor):
    richer = sample.assign(MedInc=np.clip(sample["MedInc"] * factor, 0.0, 20.0))
    change = model.predict(richer) - model.predict(sample)
    assert change.mean() > 0.0
    # Most rows move the right way too. Not all: the model has no monotonic constraint, and on
    # about 6% of rows a 10% raise lowers the prediction by more than 0.05 (measured).
    assert (change >= -0.05).mean() > 0.9


def test_row_order_and_extra_columns_do_not_change_predictions(model, sample):
    baseline = model.predict(sample)
    shuffled = sample.sample(frac=1.0, random_state=1)
    np.testing.assert_allclose(model.predict(shuffled), baseline[shuffled.index.to_numpy()])
    decorated = sample.assign(request_id=np.arange(len(sample)), note="irrelevant")[
        ["note", *reversed(FEATURE_NAMES), "request_id"]
    ]
    np.testing.assert_array_equal(model.predict(decorated), baseline)


def test_integer_typed_inputs_predict_like_floats(model, sample):
    rounded = sample.assign(HouseAge=sample["HouseAge"].round())
    as_int = rounded.assign(HouseAge=rounded["HouseAge"].astype("int64"))
    np.testing.assert_array_equal(model.predict(as_int), model.predict(rounded))


def test_tiny_measurement_noise_barely_moves_predictions(model, sample):
    rng = np.random.default_rng(0)
    noisy = sample.copy()
    for name in ("AveRooms", "AveBedrms", "Population", "AveOccup"):
        noisy[name] = noisy[name] * (1.0 + rng.uniform(-1e-6, 1e-6, len(noisy)))
    assert np.abs(model.predict(noisy) - model.predict(sample)).mean() < 0.01


def test_predictions_are_finite_and_in_a_plausible_range(model, sample):
    predictions = model.predict(sample)
    assert np.all(np.isfinite(predictions))
    target = model.signature["target"]
    # Gradient boosting can overshoot the training range a little, never wildly.
    assert predictions.min() > target["minimum"] - 0.5
    assert predictions.max() < target["maximum"] + 0.5
    assert 1.0 < predictions.mean() < 3.5


def test_extreme_but_valid_inputs_stay_plausible(model):
    extremes = pd.DataFrame(
        [
            {
                "MedInc": 0.5,
                "HouseAge": 1.0,
                "AveRooms": 1.0,
                "AveBedrms": 0.5,
                "Population": 3.0,
                "AveOccup": 0.75,
                "Latitude": 41.9,
                "Longitude": -114.2,
            },
            {
                "MedInc": 15.0,
                "HouseAge": 52.0,
                "AveRooms": 150.0,
                "AveBedrms": 30.0,
                "Population": 35000.0,
                "AveOccup": 1200.0,
                "Latitude": 32.6,
                "Longitude": -124.3,
            },
        ]
    )
    predictions = model.predict(extremes)
    assert np.all(np.isfinite(predictions))
    assert np.all((predictions > -0.5) & (predictions < 5.5))


def test_the_signature_describes_the_inputs_and_target(model):
    assert [item["name"] for item in model.signature["inputs"]] == list(FEATURE_NAMES)
    assert model.signature["target"]["name"] == TARGET.name
