"""Tests of the data contract's own consistency."""

import pytest

from data import contract


def test_every_column_has_a_sane_range():
    for col in (*contract.COLUMNS, contract.TARGET):
        assert col.minimum < col.maximum, col.name
        assert col.dtype in {"float64", "int64"}, col.name


def test_names_are_unique_and_target_is_not_a_feature():
    assert len(set(contract.FEATURE_NAMES)) == len(contract.FEATURE_NAMES) == 8
    assert contract.TARGET.name not in contract.FEATURE_NAMES


def test_known_caps_are_inside_their_ranges():
    assert contract.column("HouseAge").contains(52.0)
    assert not contract.column("HouseAge").contains(53.0)
    assert contract.TARGET.contains(5.00001)
    assert not contract.column("Latitude").contains(45.0)  # Oregon, not California


def test_unknown_column_names_the_known_ones():
    with pytest.raises(KeyError, match="MedInc"):
        contract.column("median_income")


def test_all_columns_are_the_features_then_the_target():
    assert tuple(col.name for col in contract.ALL_COLUMNS) == (*contract.FEATURE_NAMES, contract.TARGET.name)


def test_raw_dataset_pin_is_a_sha256():
    assert len(contract.RAW.sha256) == 64
    int(contract.RAW.sha256, 16)
    assert contract.RAW.rows == 20640
    assert 0.0 < contract.TEST_FRACTION < 1.0
