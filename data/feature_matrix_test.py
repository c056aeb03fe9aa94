"""The serving path's numpy features equal the training path's pandas features on the whole test split."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.contract import FEATURE_NAMES
from data.feature_engineering import MODEL_FEATURES, add_features, feature_matrix


def _test_split() -> pd.DataFrame:
    path = Path(os.environ["TEST_PARQUET"])
    return pd.read_parquet(path)


def test_numpy_features_equal_the_stored_training_features_bit_for_bit():
    table = _test_split()  # written by //data:features through add_features
    assert len(table) > 4000
    served = feature_matrix(table[list(FEATURE_NAMES)].to_numpy())
    stored = table[list(MODEL_FEATURES)].to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(served, stored)


def test_numpy_features_equal_add_features_row_by_row():
    table = _test_split()
    expected = add_features(table[list(FEATURE_NAMES)])[list(MODEL_FEATURES)].to_numpy()
    raw = table[list(FEATURE_NAMES)].to_numpy()
    # One row at a time, as single-record requests arrive, and in uneven batches.
    for start in range(0, 200):
        np.testing.assert_array_equal(feature_matrix(raw[start : start + 1]), expected[start : start + 1])
    for start, stop in ((0, 7), (7, 1007), (1007, len(raw))):
        np.testing.assert_array_equal(feature_matrix(raw[start:stop]), expected[start:stop])


def test_nonpositive_denominators_give_nan_like_the_pandas_path():
    raw = _test_split()[list(FEATURE_NAMES)].to_numpy()[:3].copy()
    raw[0, FEATURE_NAMES.index("AveOccup")] = 0.0
    raw[1, FEATURE_NAMES.index("AveRooms")] = -1.0
    expected = add_features(pd.DataFrame(raw, columns=list(FEATURE_NAMES)))[list(MODEL_FEATURES)].to_numpy()
    np.testing.assert_array_equal(feature_matrix(raw), expected)
    assert np.isnan(feature_matrix(raw)[0]).sum() == 3  # the three per-occupant ratios


@pytest.mark.parametrize("shape", [(8,), (2, 7), (1, 9)])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="feature_matrix needs"):
        feature_matrix(np.zeros(shape))
