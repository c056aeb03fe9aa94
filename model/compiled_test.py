"""Tests of the compiled model: sklearn-equal predictions, deterministic bytes, refused corrupt files."""

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor, VotingRegressor

from data.feature_engineering import MODEL_FEATURES
from model import compiled


def _data(rows: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, len(MODEL_FEATURES)))
    y = x[:, 0] * 2 + np.sin(x[:, 1] * 3) + x[:, 2] * x[:, 3] + rng.normal(0, 0.1, rows)
    return x, y


def _fit(x: np.ndarray, y: np.ndarray, seed: int = 0, **params) -> HistGradientBoostingRegressor:
    params = {"max_iter": 40, "max_leaf_nodes": 31, "max_features": 0.5, **params}
    return HistGradientBoostingRegressor(random_state=seed, **params).fit(x, y)


def test_predictions_equal_sklearn_exactly():
    x, y = _data()
    estimator = _fit(x, y)
    trees = compiled.CompiledTrees(compiled.export_tables(estimator))
    assert trees.n_trees == estimator.n_iter_
    test_x, _ = _data(rows=300, seed=1)
    assert compiled.check_equal(trees, estimator.predict(test_x), test_x) == 0.0


def test_missing_values_follow_sklearns_learned_direction():
    x, y = _data()
    x[::7, 0] = np.nan  # NaN seen in training: each split learns where missing values go
    estimator = _fit(x, y)
    test_x, _ = _data(rows=300, seed=2)
    test_x[::3, 0] = np.nan
    test_x[::5, 4] = np.nan  # NaN in a feature that had none in training
    trees = compiled.CompiledTrees(compiled.export_tables(estimator))
    np.testing.assert_array_equal(trees.predict(test_x), estimator.predict(test_x))
    # A few NaN among finite rows: the evaluator takes its NaN-free step for the blocks of rows
    # without any, and the full one for the block (and the leftover row) that hold one.
    sparse_x, _ = _data(rows=297, seed=3)
    sparse_x[[50, 296], 0] = np.nan
    np.testing.assert_array_equal(trees.predict(sparse_x), estimator.predict(sparse_x))


def test_voting_ensemble_is_averaged():
    x, y = _data()
    members = [
        (f"m{i}", HistGradientBoostingRegressor(max_iter=20, max_features=0.5, random_state=i)) for i in range(3)
    ]
    ensemble = VotingRegressor(members).fit(x, y)
    trees = compiled.CompiledTrees(compiled.export_tables(ensemble))
    assert compiled.check_equal(trees, ensemble.predict(x), x) < 1e-12


def test_export_is_deterministic_and_batches_match_single_rows():
    x, y = _data()
    first, second = compiled.export_tables(_fit(x, y)), compiled.export_tables(_fit(x, y))
    assert first == second
    trees = compiled.CompiledTrees(first)
    whole = trees.predict(x[:37])  # not a multiple of the evaluator's 8-row blocks
    singles = np.concatenate([trees.predict(x[i : i + 1]) for i in range(37)])
    np.testing.assert_array_equal(whole, singles)
    assert trees.predict(x[:0]).shape == (0,)


@pytest.mark.parametrize("rows", [127, 300, 1001])
def test_threads_do_not_change_predictions(rows):
    x, y = _data()
    estimator = _fit(x, y)
    test_x, _ = _data(rows=rows, seed=3)
    test_x[::11, 2] = np.nan
    data = compiled.export_tables(estimator)
    one = compiled.CompiledTrees(data).predict(test_x)
    # 2 and 3 threads: slices of whole 8-row blocks, the last with a remainder (or only 1 thread
    # below 256 rows); 64 is more threads than the rows allow.
    for threads in (2, 3, 64):
        np.testing.assert_array_equal(compiled.CompiledTrees(data, threads=threads).predict(test_x), one)
    np.testing.assert_array_equal(one, estimator.predict(test_x))
    with pytest.raises(ValueError, match="threads"):
        compiled.CompiledTrees(data, threads=0)


def test_check_equal_fails_on_a_different_model():
    x, y = _data()
    trees = compiled.CompiledTrees(compiled.export_tables(_fit(x, y)))
    other = _fit(x, y, seed=5, max_leaf_nodes=7)
    with pytest.raises(compiled.CompiledModelError, match="differ from sklearn"):
        compiled.check_equal(trees, other.predict(x), x)


def test_wrong_shape_is_refused():
    x, y = _data()
    trees = compiled.CompiledTrees(compiled.export_tables(_fit(x, y)))
    with pytest.raises(ValueError, match="feature array"):
        trees.predict(x[:, :5])


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda data: b"NOTTREES" + data[8:],
        lambda data: data[:-8],
        lambda data: data + b"\0" * 8,
    ],
    ids=["magic", "truncated", "trailing"],
)
def test_corrupt_files_are_refused(corrupt):
    x, y = _data()
    data = compiled.export_tables(_fit(x, y))
    with pytest.raises(compiled.CompiledModelError):
        compiled.CompiledTrees(corrupt(data))


def test_out_of_range_child_is_refused():
    x, y = _data()
    data = bytearray(compiled.export_tables(_fit(x, y)))
    (length,) = np.frombuffer(bytes(data[8:12]), dtype="<u4")
    header = json.loads(bytes(data[12 : 12 + length]))
    n_trees = header["members"][0]["n_trees"]
    index_size = 8 * n_trees
    nodes_at = 12 + length + index_size + (-index_size % 8)
    data[nodes_at + 12 : nodes_at + 16] = np.array([1 << 30], dtype="<i4").tobytes()  # root's child index
    with pytest.raises(compiled.CompiledModelError, match="out-of-range"):
        compiled.CompiledTrees(bytes(data))


def test_unsupported_estimators_are_refused():
    x, y = _data()
    with pytest.raises(compiled.CompiledModelError, match="cannot compile"):
        compiled.export_tables(object())
    with pytest.raises(compiled.CompiledModelError, match="loss"):
        compiled.export_tables(_fit(x, np.abs(y) + 0.1, loss="poisson"))
