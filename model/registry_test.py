"""Registry tests against a real MLflow store (sqlite in a temp folder), read back with MlflowClient."""

import json
import shutil
import sqlite3

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.ensemble import HistGradientBoostingRegressor

from data.contract import TARGET
from data.feature_engineering import MODEL_FEATURES
from model import artifact, register, registry
from model.metrics import regression_metrics
from model.testing import built_model_dir, features_files
from tools.hashing import sha256_file

NAME = artifact.MODEL_NAME


@pytest.fixture(scope="module")
def worse_model_dir(tmp_path_factory):
    """A deliberately weak model (3 boosting iterations) trained here on the real training split."""
    files = features_files()
    train, test = pd.read_parquet(files["train.parquet"]), pd.read_parquet(files["test.parquet"])
    features = list(MODEL_FEATURES)
    estimator = HistGradientBoostingRegressor(max_iter=3, random_state=0).fit(train[features], train[TARGET.name])
    test_metrics = regression_metrics(list(test[TARGET.name]), list(estimator.predict(test[features])))
    train_metrics = regression_metrics(list(train[TARGET.name]), list(estimator.predict(train[features])))
    model_bytes = artifact.dump_estimator(estimator)
    manifest = json.loads(files["manifest.json"].read_text())
    directory = tmp_path_factory.mktemp("worse")
    signature = artifact.build_signature(model_bytes, manifest["data_hash"], (0.15, 5.0), test_metrics)
    metrics = {
        "test": test_metrics,
        "train": train_metrics,
        "validation": {"rmse": test_metrics["rmse"]},
        "params": {"max_iter": 3},
        "config": {"note": "test model"},
    }
    (directory / artifact.MODEL_FILE).write_bytes(model_bytes)
    (directory / artifact.SIGNATURE_FILE).write_text(artifact.to_json(signature))
    (directory / artifact.METRICS_FILE).write_text(artifact.to_json(metrics))
    (directory / artifact.CARD_FILE).write_text("# test model\n")
    return directory


@pytest.fixture(scope="module")
def empty_store_database(tmp_path_factory):
    """An MLflow sqlite database with its tables created, made once: MLflow's schema migrations
    take seconds per new database, and each test copies this file instead of migrating again."""
    database = tmp_path_factory.mktemp("empty-store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
    return database


@pytest.fixture
def store(tmp_path, monkeypatch, empty_store_database):
    """A fresh, empty store per test: its own copy of the migrated database and its own artifact root."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    shutil.copyfile(empty_store_database, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}", (tmp_path / "artifacts").as_uri()


def reg(directory, store, revision="abc123"):
    uri, root = store
    return registry.register(directory, uri, artifact_root=root, revision=revision)


def champion_version(store) -> str:
    client = MlflowClient(tracking_uri=store[0], registry_uri=store[0])
    return str(client.get_model_version_by_alias(NAME, "champion").version)


def test_a_better_model_takes_over_the_champion_alias(store, worse_model_dir):
    first = reg(worse_model_dir, store)
    assert (first["version"], first["created"], first["promoted"]) == ("1", True, True)
    second = reg(built_model_dir(), store)
    assert (second["version"], second["promoted"]) == ("2", True)
    assert champion_version(store) == "2"
    client = MlflowClient(tracking_uri=store[0], registry_uri=store[0])
    version = client.get_model_version(NAME, 2)
    assert version.tags[registry.SHA_TAG] == sha256_file(built_model_dir() / artifact.MODEL_FILE)
    run = client.get_run(version.run_id)
    signature = json.loads((built_model_dir() / artifact.SIGNATURE_FILE).read_text())
    assert run.data.tags["data_hash"] == signature["data_hash"]
    assert run.data.tags["git_revision"] == "abc123"
    assert run.data.metrics["test_rmse"] == pytest.approx(signature["metrics"]["test"]["rmse"])
    assert "params.learning_rate" in run.data.params
    logged = {item.path for item in client.list_artifacts(run.info.run_id, "model")}
    assert logged == {
        f"model/{name}" for name in ("model.skops", "model.trees", "signature.json", "metrics.json", "model_card.md")
    }


def test_a_worse_model_is_registered_but_the_champion_stays(store, worse_model_dir):
    reg(built_model_dir(), store)
    report = reg(worse_model_dir, store)
    assert (report["version"], report["created"], report["promoted"]) == ("2", True, False)
    assert "does not beat champion version 1" in report["message"]
    assert champion_version(store) == "1"


def test_registering_the_same_artifact_twice_creates_no_duplicate(store, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built_model_dir(), copy)
    reg(built_model_dir(), store)
    again = reg(copy, store)
    assert (again["version"], again["created"]) == ("1", False)
    assert "already registered" in again["message"]
    client = MlflowClient(tracking_uri=store[0], registry_uri=store[0])
    assert len(client.search_model_versions(f"name = '{NAME}'")) == 1
    experiment = client.get_experiment_by_name(registry.EXPERIMENT)
    assert len(client.search_runs([experiment.experiment_id])) == 1


def test_cli_prints_the_report_as_json(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store[0])
    status = register.main([str(built_model_dir().resolve()), "--git-revision", "deadbeef"])
    captured = capsys.readouterr()
    assert status == 0
    report = json.loads(captured.out)
    assert report["champion"] == report["version"] == "1"
    assert "new champion" in captured.err


def test_default_store_lives_under_the_workspace(tmp_path):
    uri, root = registry.default_store(tmp_path)
    assert uri == f"sqlite:///{tmp_path.resolve()}/.mlflow/mlflow.db"
    assert root == (tmp_path.resolve() / ".mlflow" / "artifacts").as_uri()


def test_an_unloadable_artifact_is_not_registered(store, tmp_path, capsys):
    status = register.main([str(tmp_path), "--tracking-uri", store[0]])
    assert status == 1
    assert "signature.json" in capsys.readouterr().err


def test_a_failure_between_run_and_version_leaves_no_orphan_run_and_a_retry_logs_no_second_one(store):
    client = MlflowClient(tracking_uri=store[0], registry_uri=store[0])
    database = store[0].removeprefix("sqlite:///")
    # The real store fails where a full disk or a lost connection would: inserting the version.
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TRIGGER fail_version BEFORE INSERT ON model_versions BEGIN SELECT RAISE(ABORT, 'store down'); END"
        )
    with pytest.raises(MlflowException):
        reg(built_model_dir(), store)
    experiment = client.get_experiment_by_name(registry.EXPERIMENT)
    assert client.search_runs([experiment.experiment_id]) == []  # no run without a version
    assert client.search_model_versions(f"name = '{NAME}'") == []

    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER fail_version")
    report = reg(built_model_dir(), store)
    assert (report["version"], report["created"]) == ("1", True)
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in runs] == [report["run_id"]]
    assert client.get_model_version(NAME, 1).run_id == report["run_id"]


def test_a_retry_after_an_interrupted_registration_adopts_its_finished_run(store):
    # A process that died after logging the run (so it could not clean up) left this behind.
    client = MlflowClient(tracking_uri=store[0], registry_uri=store[0])
    loaded = artifact.load_model(built_model_dir())
    sha256 = sha256_file(built_model_dir() / artifact.MODEL_FILE)
    experiment_id = registry.experiment_id_for(client, store[1])
    left_behind = registry.log_run(
        client, experiment_id, loaded=loaded, directory=built_model_dir(), sha256=sha256, revision="abc123"
    )
    report = reg(built_model_dir(), store)
    assert report["run_id"] == left_behind
    assert "interrupted registration reused" in report["message"]
    assert len(client.search_runs([experiment_id])) == 1
