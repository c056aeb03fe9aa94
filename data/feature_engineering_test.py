"""Code tests of the feature engineering: shape, purity, row-wise behaviour and known values."""

import math

import numpy as np
import pandas as pd
import pytest

from data.contract import FEATURE_NAMES, TARGET
from data.feature_engineering import DERIVED_FEATURES, MODEL_FEATURES, add_features


def _rows() -> pd.DataFrame:
    # Two real block groups (Berkeley hills and inland Fresno-like values) plus a desert one.
    return pd.DataFrame(
        {
            "MedInc": [8.3252, 2.1, 3.0],
            "HouseAge": [41.0, 20.0, 10.0],
            "AveRooms": [6.984127, 5.0, 4.0],
            "AveBedrms": [1.02381, 1.2, 1.0],
            "Population": [322.0, 1000.0, 500.0],
            "AveOccup": [2.555556, 2.5, 2.0],
            "Latitude": [37.88, 36.74, 33.5],
            "Longitude": [-122.23, -119.78, -115.0],
            TARGET.name: [4.526, 0.9, 0.6],
        }
    )


def test_model_features_are_raw_then_derived_and_unique():
    assert MODEL_FEATURES[: len(FEATURE_NAMES)] == FEATURE_NAMES
    assert len(set(MODEL_FEATURES)) == len(MODEL_FEATURES)
    assert TARGET.name not in MODEL_FEATURES


def test_output_has_every_model_feature_as_float64_and_keeps_target():
    out = add_features(_rows())
    assert set(MODEL_FEATURES) <= set(out.columns)
    assert all(out[name].dtype == np.float64 for name in MODEL_FEATURES)
    pd.testing.assert_series_equal(out[TARGET.name], _rows()[TARGET.name])


def test_input_is_not_modified():
    frame = _rows()
    before = frame.copy()
    add_features(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_row_wise_one_row_equals_the_same_row_in_a_table():
    table = add_features(_rows())
    for i in range(len(table)):
        single = add_features(_rows().iloc[[i]])
        pd.testing.assert_frame_equal(single.reset_index(drop=True), table.iloc[[i]].reset_index(drop=True))


def test_deterministic():
    pd.testing.assert_frame_equal(add_features(_rows()), add_features(_rows()))


def test_known_values():
    out = add_features(_rows()).iloc[0]
    assert out["RoomsPerPerson"] == pytest.approx(6.984127 / 2.555556)
    assert out["BedroomsPerRoom"] == pytest.approx(1.02381 / 6.984127)
    assert out["Households"] == pytest.approx(322.0 / 2.555556)
    assert out["RotatedCoord45"] == pytest.approx((-122.23 + 37.88) * math.sqrt(0.5))
    # The Berkeley hills to San Francisco city hall: about 20 km in a straight line.
    assert 15.0 < out["DistToSanFrancisco"] < 25.0
    assert out["DistToNearestCity"] == out["DistToSanFrancisco"]


def test_coast_distance_orders_coastal_inland_and_desert():
    out = add_features(_rows())
    berkeley, fresno, desert = out["DistToCoast"]
    assert berkeley < 30.0
    assert 150.0 < fresno < 250.0
    assert desert > fresno


def test_integers_are_accepted_and_cast():
    frame = _rows().astype({"HouseAge": "int64", "Population": "int64"})
    out = add_features(frame)
    assert out["HouseAge"].dtype == np.float64


def test_zero_denominator_gives_nan_not_inf():
    frame = _rows()
    frame.loc[0, "AveOccup"] = 0.0
    out = add_features(frame)
    assert math.isnan(out.loc[0, "RoomsPerPerson"])
    assert np.isfinite(out.loc[1:, list(DERIVED_FEATURES)].to_numpy()).all()


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="AveOccup"):
        add_features(_rows().drop(columns=["AveOccup"]))


def test_non_numeric_column_is_named():
    frame = _rows().astype({"MedInc": "object"})
    frame.loc[1, "MedInc"] = "lots"
    with pytest.raises(ValueError, match="MedInc"):
        add_features(frame)
