"""The report //model:report built: its numbers recomputed independently, its PNGs and its model card."""

import itertools
import json
import os
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.contract import TARGET
from model.artifact import load_model
from model.report import SEGMENT_EDGES, SEGMENT_FEATURE
from model.testing import built_model_dir, features_files


@pytest.fixture(scope="module")
def report_dir() -> Path:
    value = os.environ.get("REPORT_JSON")
    if not value:
        pytest.fail("$REPORT_JSON is not set: run this test with bazel test")
    return Path(value).parent


@pytest.fixture(scope="module")
def report(report_dir):
    return json.loads((report_dir / "report.json").read_text())


@pytest.fixture(scope="module")
def truth_and_predictions():
    test = pd.read_parquet(features_files()["test.parquet"])
    model = load_model(built_model_dir())
    return test, test[TARGET.name].to_numpy(), model.predict(test)


def test_metrics_match_numpy_on_the_test_split(report, truth_and_predictions):
    _, truth, predicted = truth_and_predictions
    errors = predicted - truth
    assert report["rows"] == len(truth)
    assert report["metrics"]["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-9)
    assert report["metrics"]["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-9)
    r2 = 1 - np.sum(errors**2) / np.sum((truth - truth.mean()) ** 2)
    assert report["metrics"]["r2"] == pytest.approx(r2, rel=1e-9)


def test_segments_cover_every_row_and_match_numpy(report, truth_and_predictions):
    test, truth, predicted = truth_and_predictions
    income = test[SEGMENT_FEATURE].to_numpy()
    bounds = [-np.inf, *SEGMENT_EDGES, np.inf]
    assert sum(seg["rows"] for seg in report["segments"]) == len(truth)
    for seg, (low, high) in zip(report["segments"], itertools.pairwise(bounds), strict=True):
        mask = (income >= low) & (income < high)
        assert seg["rows"] == int(mask.sum()), seg["segment"]
        assert seg["rmse"] == pytest.approx(np.sqrt(np.mean((predicted[mask] - truth[mask]) ** 2)), rel=1e-9)


def test_size_latency_and_importance_are_present_and_plausible(report):
    directory = built_model_dir()
    assert report["size_bytes"]["model.skops"] == (directory / "model.skops").stat().st_size
    assert report["size_bytes"]["model.trees"] == (directory / "model.trees").stat().st_size
    assert 0 < report["latency_ms"]["compiled"] < report["latency_ms"]["sklearn"]
    importance = report["feature_importance"]
    assert list(importance) == sorted(load_model(directory).model_features)  # every feature (JSON keys sorted)
    # Income (directly or per occupant) and location carry this data set: shuffling the top
    # feature must cost far more than shuffling the weakest one.
    ranked = sorted(importance, key=importance.get, reverse=True)
    assert {"MedInc", "IncomePerOccupant"} & set(ranked[:5]), ranked
    assert importance[ranked[0]] > 10 * importance[ranked[-1]] > 0


@pytest.mark.parametrize("name", ["predicted_vs_actual.png", "residuals.png", "feature_importance.png"])
def test_plots_are_pngs_of_the_expected_size(report_dir, name):
    data = (report_dir / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (640, 480)
    assert len(data) > 10_000  # a drawn plot, not an empty canvas


def test_the_card_embeds_the_plots_and_keeps_the_training_card(report_dir):
    card = (report_dir / "model_card.md").read_text()
    original = (built_model_dir() / "model_card.md").read_text()
    assert card.startswith(original.rstrip("\n"))
    for name in ("predicted_vs_actual.png", "residuals.png", "feature_importance.png"):
        assert f"]({name})" in card
