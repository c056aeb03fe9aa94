"""Code tests of the evaluate CLI on the built model and real test data."""

import json

import pandas as pd
import pytest

from data.contract import FEATURE_NAMES, TARGET
from model import evaluate
from model.testing import built_model_dir, features_files


@pytest.fixture(scope="module")
def test_csv(tmp_path_factory):
    """The first 500 test rows as CSV with only the raw columns and the target."""
    frame = pd.read_parquet(features_files()["test.parquet"]).loc[:, [*FEATURE_NAMES, TARGET.name]].head(500)
    path = tmp_path_factory.mktemp("data") / "batch.csv"
    frame.to_csv(path, index=False)
    return path


def test_scores_parquet_and_prints_only_json_on_stdout(capsys):
    status = evaluate.main([str(built_model_dir()), str(features_files()["test.parquet"])])
    captured = capsys.readouterr()
    assert status == 0
    report = json.loads(captured.out)
    metrics = json.loads((built_model_dir() / "metrics.json").read_text())["test"]
    assert report["metrics"]["rmse"] == pytest.approx(metrics["rmse"], abs=1e-5)
    assert report["data"]["rows_scored"] == report["data"]["rows"] - report["data"]["rows_quarantined"]
    assert "evaluate: model" in captured.err


def test_scores_a_csv_of_raw_columns(test_csv, capsys):
    assert evaluate.main([str(built_model_dir()), str(test_csv)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["data"]["rows"] == 500
    assert 0.0 < report["metrics"]["rmse"] < 1.0


def test_relative_paths_resolve_against_the_users_directory(test_csv, monkeypatch, capsys):
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(test_csv.parent))
    assert evaluate.main([str(built_model_dir().resolve()), test_csv.name]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["rows"] == 500


def test_data_without_the_target_is_refused(tmp_path, test_csv, capsys):
    path = tmp_path / "no_target.csv"
    pd.read_csv(test_csv).drop(columns=[TARGET.name]).to_csv(path, index=False)
    assert evaluate.main([str(built_model_dir()), str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert TARGET.name in captured.err


def test_a_missing_model_is_refused(tmp_path, test_csv, capsys):
    assert evaluate.main([str(tmp_path), str(test_csv)]) == 1
    assert "signature.json" in capsys.readouterr().err
