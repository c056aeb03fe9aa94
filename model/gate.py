"""The quality gate: thresholds on test metrics that a model must meet to be built at all."""

import json
import os
from pathlib import Path

# Threshold keys and how each compares: "max_test_rmse" means test rmse must be <= the value.
_RULES: dict[str, tuple[str, str]] = {
    "max_test_rmse": ("rmse", "max"),
    "max_test_mae": ("mae", "max"),
    "min_test_r2": ("r2", "min"),
}


def load_thresholds(path: str | os.PathLike) -> dict[str, float]:
    """Read the gate config (JSON object of threshold name -> number).

    Raises:
        ValueError: on unknown keys, non-numeric values or an empty gate.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not document:
        raise ValueError(f"{path}: the quality gate must be a non-empty JSON object")
    unknown = sorted(set(document) - set(_RULES))
    if unknown:
        raise ValueError(f"{path}: unknown quality gate keys {unknown}; known: {sorted(_RULES)}")
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in document.values()):
        raise ValueError(f"{path}: every threshold must be a number")
    return {key: float(value) for key, value in document.items()}


def failures(test_metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """The gate's verdict: one message per threshold the test metrics miss (empty = passed).

    Args:
        test_metrics: ``{"rmse", "mae", "r2"}`` on the test set.
        thresholds: from ``load_thresholds``.
    """
    messages = []
    for key, limit in sorted(thresholds.items()):
        metric, kind = _RULES[key]
        value = float(test_metrics[metric])
        if (kind == "max" and value > limit) or (kind == "min" and value < limit):
            relation = "above the maximum" if kind == "max" else "below the minimum"
            messages.append(f"test {metric} {value:.4f} is {relation} {limit} ({key})")
    return messages
