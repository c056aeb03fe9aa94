"""Code tests of training: config checks, the seeded search, determinism and the training CLI."""

import json

import pytest
from sklearn.ensemble import HistGradientBoostingRegressor, VotingRegressor

from data.feature_engineering import MODEL_FEATURES, add_features
from model import artifact, train, train_main
from model.testing import synthetic_raw

SMALL = {
    "seed": 3,
    "search": {
        "n_candidates": 3,
        "validation_fraction": 0.25,
        "learning_rate": 0.3,
        "max_iter": 30,
        "space": {"max_leaf_nodes": [7, 15], "min_samples_leaf": [5, 20], "l2_regularization": [0.0, 1.0]},
    },
    "final": {"learning_rate_scale": 0.5, "ensemble_size": 1},
}


def processed(rows: int = 400, seed: int = 0):
    """A processed table as //data:features holds it: features plus the target."""
    return add_features(synthetic_raw(rows, seed))


def test_parse_config_reads_the_small_config():
    config = train.parse_config(SMALL)
    assert config.n_candidates == 3
    assert config.search_max_iter == 30
    assert config.learning_rate_scale == 0.5
    assert config.as_dict()["search"]["space"] == SMALL["search"]["space"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["search"]["space"].update(n_estimators=[10]), "unknown hyperparameters"),
        (lambda c: c["search"].update(validation_fraction=1.5), "validation_fraction"),
        (lambda c: c["search"]["space"].update(max_leaf_nodes=[]), "at least one candidate"),
        (lambda c: c.pop("final"), "incomplete"),
        (lambda c: c["final"].update(learning_rate_scale=0.0), "learning_rate_scale"),
    ],
)
def test_parse_config_rejects_bad_configs(change, message):
    config = json.loads(json.dumps(SMALL))
    change(config)
    with pytest.raises(ValueError, match=message):
        train.parse_config(config)


def test_the_repository_config_is_valid(tmp_path):
    config = train.load_config("model/configs/training.json")
    assert config.n_candidates >= 1


def test_sample_candidates_is_seeded_distinct_and_inside_the_space():
    space = SMALL["search"]["space"]
    first = train.sample_candidates(space, 5, seed=1)
    assert first == train.sample_candidates(space, 5, seed=1)
    assert first != train.sample_candidates(space, 5, seed=2)
    assert len({json.dumps(c, sort_keys=True) for c in first}) == 5
    for candidate in first:
        assert all(candidate[name] in values for name, values in space.items())


def test_a_budget_larger_than_the_grid_tries_the_whole_grid():
    assert len(train.sample_candidates(SMALL["search"]["space"], 100, seed=0)) == 8


def test_search_picks_the_trial_with_the_lowest_validation_rmse():
    report = train.search(processed(), train.parse_config(SMALL))
    assert len(report["trials"]) == 3
    assert report["best"]["validation_rmse"] == min(t["validation_rmse"] for t in report["trials"])
    assert all(1 <= t["best_iter"] <= 30 for t in report["trials"])


def test_final_params_scale_the_learning_rate_and_iterations():
    config = train.parse_config(SMALL)
    params = train.final_params(config, {"params": {"max_leaf_nodes": 7}, "best_iter": 11})
    assert params == {"max_leaf_nodes": 7, "learning_rate": 0.15, "max_iter": 22, "early_stopping": False}


def test_training_twice_gives_byte_identical_artifacts():
    config = train.parse_config(SMALL)
    first = train.train(processed(), config)
    second = train.train(processed(), config)
    assert isinstance(first.estimator, HistGradientBoostingRegressor)
    assert first.search == second.search
    assert artifact.dump_estimator(first.estimator) == artifact.dump_estimator(second.estimator)


def test_ensemble_size_gives_a_voting_regressor_of_seeded_members():
    config = train.parse_config({**SMALL, "final": {"learning_rate_scale": 1.0, "ensemble_size": 2}})
    estimator = train.train(processed(), config).estimator
    assert isinstance(estimator, VotingRegressor)
    assert [member.random_state for member in estimator.estimators_] == [3, 4]


def test_training_needs_every_model_feature():
    with pytest.raises(ValueError, match="DistToCoast"):
        train.search(processed().drop(columns=["DistToCoast"]), train.parse_config(SMALL))


def write_features(directory, seed=0):
    """A small features directory shaped like //data:features."""
    directory.mkdir()
    processed(400, seed).to_parquet(directory / "train.parquet")
    processed(100, seed + 1).to_parquet(directory / "test.parquet")
    manifest = {
        "data_hash": "f" * 64,
        "train": {"rows": 400},
        "test": {"rows": 100},
        "model_features": list(MODEL_FEATURES),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return [str(directory / name) for name in ("manifest.json", "test.parquet", "train.parquet")]


def run_cli(tmp_path, gate: dict):
    features = write_features(tmp_path / "features")
    (tmp_path / "training.json").write_text(json.dumps(SMALL))
    (tmp_path / "gate.json").write_text(json.dumps(gate))
    out = tmp_path / "artifact"
    status = train_main.main(
        [
            "--features",
            *features,
            "--config",
            str(tmp_path / "training.json"),
            "--gate",
            str(tmp_path / "gate.json"),
            "--out-dir",
            str(out),
        ]
    )
    return status, out


def test_cli_writes_a_loadable_artifact_with_consistent_files(tmp_path, capsys):
    status, out = run_cli(tmp_path, {"max_test_rmse": 5.0})
    assert status == 0
    assert capsys.readouterr().out == ""  # stdout carries no logs
    loaded = artifact.load_model(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert loaded.signature["data_hash"] == "f" * 64
    assert loaded.signature["metrics"]["test"] == metrics["test"]
    assert metrics["search"]["best"] in metrics["search"]["trials"]
    card = (out / "model_card.md").read_text()
    assert loaded.version in card
    assert "f" * 64 in card
    assert "## Limits" in card


def test_cli_fails_and_writes_nothing_when_the_gate_is_not_met(tmp_path, capsys):
    status, out = run_cli(tmp_path, {"max_test_rmse": 0.0001})
    assert status == 1
    assert "QUALITY GATE FAILED" in capsys.readouterr().err
    assert not out.exists()
