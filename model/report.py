"""The model report's numbers: test metrics, per-segment errors, size, single-row latency, feature importance."""

import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from data.contract import TARGET
from data.feature_engineering import add_features
from model.artifact import MODEL_FILE, LoadedModel
from model.compiled import TABLES_FILE, load_compiled
from model.metrics import regression_metrics

REPORT_FORMAT = "model-report/1"
# Segments by median income (MedInc, in 10k USD): fixed edges, so base and head segment the
# same way even when the data changed. Errors differ most across income: the top band holds
# the capped 500k USD blocks.
SEGMENT_FEATURE = "MedInc"
SEGMENT_EDGES = (2.5, 4.5, 6.5)
# Single-row latency: warm-up calls, then timed calls whose median is reported. The sklearn
# path takes milliseconds per call, the compiled one a fraction of one: fewer sklearn runs.
LATENCY_WARMUP = 10
LATENCY_RUNS = 200
SKLEARN_LATENCY_RUNS = 50
# Permutation importance on the first rows of the test split (a fixed subset: deterministic).
IMPORTANCE_ROWS = 1000
IMPORTANCE_REPEATS = 3


def segment_names(edges: tuple[float, ...] = SEGMENT_EDGES) -> list[str]:
    """The segment names for ``edges``: ``MedInc < 2.5``, ``2.5 <= MedInc < 4.5``, ..., ``MedInc >= 6.5``."""
    names = [f"{SEGMENT_FEATURE} < {edges[0]:g}"]
    names += [f"{low:g} <= {SEGMENT_FEATURE} < {high:g}" for low, high in itertools.pairwise(edges)]
    names.append(f"{SEGMENT_FEATURE} >= {edges[-1]:g}")
    return names


def segment_errors(
    frame: pd.DataFrame, predictions: np.ndarray, edges: tuple[float, ...] = SEGMENT_EDGES
) -> list[dict[str, Any]]:
    """RMSE and MAE of the predictions per median-income segment.

    Args:
        frame: rows with ``MedInc`` and the target.
        predictions: one prediction per row, in order.
        edges: the segment boundaries (a value equal to an edge goes to the upper segment).

    Returns:
        One ``{"segment", "rows", "rmse", "mae"}`` per segment, in order; empty segments have
        ``rows`` 0 and no errors (None).
    """
    index = np.searchsorted(np.asarray(edges), frame[SEGMENT_FEATURE].to_numpy(dtype="float64"), side="right")
    truth = frame[TARGET.name].to_numpy(dtype="float64")
    rows = []
    for i, name in enumerate(segment_names(edges)):
        mask = index == i
        entry: dict[str, Any] = {"segment": name, "rows": int(mask.sum()), "rmse": None, "mae": None}
        if mask.any():
            scores = regression_metrics(list(truth[mask]), list(predictions[mask]))
            entry.update({"rmse": scores["rmse"], "mae": scores["mae"]})
        rows.append(entry)
    return rows


def _median_ms(predict: Callable[[Any], Any], rows: list[Any], warmup: int) -> float:
    for row in rows[:warmup]:
        predict(row)
    times = []
    for row in rows[warmup:]:
        started = time.perf_counter()
        predict(row)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def single_row_latency_ms(
    model: LoadedModel, frame: pd.DataFrame, warmup: int = LATENCY_WARMUP, runs: int = LATENCY_RUNS
) -> dict[str, Any]:
    """Median wall time of one single-row prediction, in milliseconds, on both prediction paths.

    ``compiled``: what the predict service serves (model.trees through libtreeeval.so, from a
    1x8 float64 array); ``sklearn``: ``LoadedModel.predict`` on a one-row DataFrame. The rows
    cycle through ``frame`` so no single row's tree paths dominate.
    """
    raw = frame[model.input_names]
    frames = [raw.iloc[[i % len(raw)]] for i in range(warmup + runs)]
    arrays = [row.to_numpy(dtype="float64") for row in frames]
    sklearn_runs = min(runs, SKLEARN_LATENCY_RUNS)
    served = load_compiled(model.directory)
    return {
        "compiled": _median_ms(served.predict, arrays, warmup),
        "sklearn": _median_ms(model.predict, frames[: warmup + sklearn_runs], warmup),
        "runs": runs,
        "sklearn_runs": sklearn_runs,
    }


def feature_importance(model: LoadedModel, frame: pd.DataFrame, rows: int = IMPORTANCE_ROWS) -> dict[str, float]:
    """Permutation importance of each model feature: how much the RMSE grows when it is shuffled.

    Args:
        model: the loaded model.
        frame: raw rows with the target; the first ``rows`` are used.
        rows: how many rows to score on.

    Returns:
        {feature: mean RMSE increase over the repeats}, in the model's feature order.
    """
    subset = frame.iloc[:rows]
    features = add_features(subset[model.input_names])[model.model_features]
    result = permutation_importance(
        model.estimator,
        features,
        subset[TARGET.name],
        scoring="neg_root_mean_squared_error",
        n_repeats=IMPORTANCE_REPEATS,
        random_state=0,
    )
    return {name: float(value) for name, value in zip(model.model_features, result.importances_mean, strict=True)}


def build_report(model: LoadedModel, test_frame: pd.DataFrame) -> tuple[dict[str, Any], np.ndarray]:
    """The report document of a model on the test split, and its predictions (for the plots).

    Args:
        model: the model (its directory holds model.skops and model.trees).
        test_frame: the test split: the raw input columns and the target.

    Returns:
        (report, predictions): report has ``metrics``, ``segments``, ``size_bytes``,
        ``latency_ms``, ``feature_importance``.
    """
    predictions = model.predict(test_frame)
    directory = Path(model.directory)
    report = {
        "format": REPORT_FORMAT,
        "model_version": model.version,
        "data_hash": model.signature["data_hash"],
        "rows": len(test_frame),
        "metrics": regression_metrics(list(test_frame[TARGET.name]), list(predictions)),
        "segments": segment_errors(test_frame, predictions),
        "size_bytes": {name: (directory / name).stat().st_size for name in (MODEL_FILE, TABLES_FILE)},
        "latency_ms": single_row_latency_ms(model, test_frame),
        "feature_importance": feature_importance(model, test_frame),
    }
    return report, predictions
