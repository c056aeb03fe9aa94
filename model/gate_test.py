"""Code tests of the quality gate."""

import json

import pytest

from model import gate


def test_the_repository_gate_config_loads():
    thresholds = gate.load_thresholds("model/configs/quality_gate.json")
    assert thresholds["max_test_rmse"] > 0


def test_passing_metrics_have_no_failures():
    assert gate.failures({"rmse": 0.40, "mae": 0.25, "r2": 0.88}, {"max_test_rmse": 0.45, "min_test_r2": 0.84}) == []


def test_each_missed_threshold_is_named():
    messages = gate.failures(
        {"rmse": 0.50, "mae": 0.25, "r2": 0.80}, {"max_test_rmse": 0.45, "max_test_mae": 0.3, "min_test_r2": 0.84}
    )
    assert messages == [
        "test rmse 0.5000 is above the maximum 0.45 (max_test_rmse)",
        "test r2 0.8000 is below the minimum 0.84 (min_test_r2)",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [({}, "non-empty"), ({"max_rmse": 1}, "unknown"), ({"max_test_rmse": "0.4"}, "number")],
)
def test_bad_gate_configs_are_rejected(tmp_path, document, message):
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message):
        gate.load_thresholds(path)
