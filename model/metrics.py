"""Regression metrics used by training, the quality gate and evaluation."""

import math
from collections.abc import Sequence


def regression_metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float]:
    """Compute RMSE, MAE and R² of predictions against the truth.

    Args:
        y_true: observed target values.
        y_pred: predicted values, same length and order as ``y_true``.

    Returns:
        ``{"rmse": ..., "mae": ..., "r2": ...}``; R² is 0.0 when the truth is constant.

    Raises:
        ValueError: on empty input, mismatched lengths or non-finite values.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    if not y_true:
        raise ValueError("cannot score an empty set of predictions")
    truth = [float(v) for v in y_true]
    pred = [float(v) for v in y_pred]
    if not all(math.isfinite(v) for v in (*truth, *pred)):
        raise ValueError("predictions and truth must be finite numbers")
    n = len(truth)
    errors = [p - t for t, p in zip(truth, pred, strict=True)]
    mean_truth = sum(truth) / n
    total = sum((t - mean_truth) ** 2 for t in truth)
    residual = sum(e * e for e in errors)
    return {
        "rmse": math.sqrt(residual / n),
        "mae": sum(abs(e) for e in errors) / n,
        "r2": 1.0 - residual / total if total > 0 else 0.0,
    }
