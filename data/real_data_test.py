"""Data tests: the real California housing table and the built features against the contract."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.model_selection import train_test_split

from data import contract, drift, pipeline
from data.feature_engineering import DERIVED_FEATURES, MODEL_FEATURES
from data.validation import validate_file, write_parquet
from tools.hashing import sha256_file

RAW = Path(os.environ["RAW_FILE"])
TRAIN = Path(os.environ["TRAIN_FILE"])
TEST = Path(os.environ["TEST_FILE"])
MANIFEST = Path(os.environ["MANIFEST_FILE"])
REFERENCE = Path(os.environ["REFERENCE_FILE"])


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_parquet(RAW)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def test_raw_file_is_the_pinned_version():
    assert sha256_file(RAW) == contract.RAW.sha256


def test_raw_schema_is_the_contract():
    schema = pq.read_schema(RAW)
    assert schema.names == [col.name for col in contract.ALL_COLUMNS]
    assert all(str(schema.field(col.name).type) == "double" for col in contract.ALL_COLUMNS)


def test_raw_values_are_complete_and_inside_the_contract(raw):
    assert len(raw) == contract.RAW.rows
    assert not raw.isna().any().any()
    for col in contract.ALL_COLUMNS:
        assert raw[col.name].between(col.minimum, col.maximum).all(), col.name
    assert not raw.duplicated().any()


def test_raw_is_sklearns_table(raw):
    # The first block group of scikit-learn's fetch_california_housing (Berkeley, near the Bay).
    expected = [8.3252, 41.0, 6.984127, 1.02381, 322.0, 2.555556, 37.88, -122.23, 4.526]
    np.testing.assert_allclose(raw.iloc[0].to_numpy(), expected, rtol=1e-6)


def test_raw_has_the_known_caps(raw):
    # The StatLib table censors house age at 52 and value at 5.00001; many block groups sit on the caps.
    assert raw["HouseAge"].max() == 52.0
    assert (raw["HouseAge"] == 52.0).sum() > 1000
    assert raw[contract.TARGET.name].max() == pytest.approx(5.00001)
    assert (raw[contract.TARGET.name] >= 5.0).sum() > 900


def test_raw_validates_with_nothing_quarantined():
    result = validate_file(RAW, require_target=True, expected_rows=20640, expected_sha256=contract.RAW.sha256)
    assert result.passed, result.report["failures"]
    assert result.report["counts"] == {"rows_in": 20640, "rows_valid": 20640, "rows_quarantined": 0}


def test_manifest_matches_the_files(manifest):
    assert manifest["schema_version"] == contract.SCHEMA_VERSION
    assert manifest["raw"] == {"sha256": contract.RAW.sha256, "rows": 20640}
    assert manifest["train"] == {"sha256": sha256_file(TRAIN), "rows": 16512}
    assert manifest["test"] == {"sha256": sha256_file(TEST), "rows": 4128}
    assert manifest["split"] == {"test_fraction": 0.2, "seed": 42}
    assert manifest["data_hash"] == pipeline.data_hash(manifest["train"]["sha256"], manifest["test"]["sha256"])
    assert manifest["model_features"] == list(MODEL_FEATURES)


def test_processed_tables_have_the_model_columns_and_finite_values():
    for path in (TRAIN, TEST):
        frame = pd.read_parquet(path)
        assert list(frame.columns) == [*MODEL_FEATURES, contract.TARGET.name]
        assert (frame.dtypes == np.float64).all()
        assert np.isfinite(frame.to_numpy()).all(), path.name


def test_derived_features_are_plausible_on_real_data():
    frame = pd.read_parquet(TRAIN)
    assert frame["BedroomsPerRoom"].between(0.0, 1.0).all()
    assert (frame["Households"] > 0).all()
    assert frame["DistToCoast"].between(0.0, 500.0).all()
    assert frame["DistToNearestCity"].max() < 800.0
    # Coastal block groups are worth more: the correlation a tree model can use.
    assert frame["DistToCoast"].corr(frame[contract.TARGET.name], method="spearman") < -0.3
    assert set(DERIVED_FEATURES) <= set(frame.columns)


def test_split_is_sklearns_on_the_raw_table_and_rebuilds_byte_identically(raw, tmp_path, manifest):
    # The model team's reference split: train_test_split(test_size=0.2, random_state=42) on the table.
    ref_train, ref_test = train_test_split(raw, test_size=0.2, random_state=42)
    train, test = pd.read_parquet(TRAIN), pd.read_parquet(TEST)
    raw_columns = [col.name for col in contract.ALL_COLUMNS]
    np.testing.assert_array_equal(train[raw_columns].to_numpy(), ref_train.to_numpy())
    np.testing.assert_array_equal(test[raw_columns].to_numpy(), ref_test.to_numpy())
    # Rebuilding here with the same code gives the very bytes the Bazel action wrote.
    write_parquet(pipeline.featurize(raw), tmp_path / "features.parquet")
    report = {"status": "passed", "source": {"sha256": contract.RAW.sha256}, "counts": {"rows_in": len(raw)}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    rebuilt = pipeline.write_split(tmp_path / "features.parquet", tmp_path / "report.json", tmp_path / "out")
    assert rebuilt["data_hash"] == manifest["data_hash"]


def test_test_split_does_not_drift_from_the_training_reference():
    reference = json.loads(REFERENCE.read_text())
    report = drift.check_drift(reference, pd.read_parquet(TEST))
    assert report["drifted"] is False, drift.summary(report)


def test_a_northern_only_batch_drifts_in_latitude():
    reference = json.loads(REFERENCE.read_text())
    north = pd.read_parquet(TEST).query("Latitude > 37.5")
    report = drift.check_drift(reference, north)
    assert "Latitude" in report["drifted_features"]
