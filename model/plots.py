"""The model report's PNG plots (matplotlib, Agg backend): predicted vs actual, residuals, importance, drift.

Deterministic output: the Agg renderer, matplotlib's bundled DejaVu Sans, a fixed size and
DPI, and no PNG metadata (no "Software" text chunk), so the same numbers give the same bytes
and the build step that draws them stays cacheable.
"""

import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # before pyplot: no display here, and the other backends are not deterministic

import matplotlib.pyplot as plt
import numpy as np

SIZE_INCHES = (6.4, 4.8)
DPI = 100  # 640 x 480 pixels
_STYLE = {
    "font.family": "DejaVu Sans",
    "path.simplify": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
# A scatter of every test row (4,128) stays readable at this size with small, light points.
_POINT = {"s": 4, "alpha": 0.35, "linewidths": 0}


def _save(fig: plt.Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def _figure() -> tuple[plt.Figure, plt.Axes]:
    with mpl.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=SIZE_INCHES, dpi=DPI)
    return fig, ax


def predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray, title: str, path: str | os.PathLike) -> Path:
    """Scatter of predictions against the truth, with the y = x line a perfect model would sit on."""
    with mpl.rc_context(_STYLE):
        fig, ax = _figure()
        ax.scatter(actual, predicted, color="tab:blue", **_POINT)
        low = float(min(np.min(actual), np.min(predicted)))
        high = float(max(np.max(actual), np.max(predicted)))
        ax.plot([low, high], [low, high], color="tab:red", linewidth=1, label="y = x")
        ax.set_xlabel("actual MedHouseVal (100k USD)")
        ax.set_ylabel("predicted (100k USD)")
        ax.set_title(title)
        ax.legend(loc="upper left")
        return _save(fig, path)


def residuals(actual: np.ndarray, predicted: np.ndarray, title: str, path: str | os.PathLike) -> Path:
    """Residuals (predicted - actual) against the prediction, plus their histogram."""
    errors = np.asarray(predicted) - np.asarray(actual)
    with mpl.rc_context(_STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=SIZE_INCHES, dpi=DPI, width_ratios=(2, 1), sharey=True)
        left.scatter(predicted, errors, color="tab:blue", **_POINT)
        left.axhline(0.0, color="tab:red", linewidth=1)
        left.set_xlabel("predicted (100k USD)")
        left.set_ylabel("residual: predicted - actual")
        right.hist(errors, bins=60, orientation="horizontal", color="tab:blue")
        right.axhline(0.0, color="tab:red", linewidth=1)
        right.set_xlabel("rows")
        fig.suptitle(title)
        return _save(fig, path)


def feature_importance(importance: Mapping[str, float], title: str, path: str | os.PathLike) -> Path:
    """Permutation importance per model feature (RMSE increase when it is shuffled), largest at the top."""
    names = sorted(importance, key=lambda name: importance[name])
    with mpl.rc_context(_STYLE):
        fig, ax = _figure()
        ax.barh(names, [importance[name] for name in names], color="tab:blue")
        ax.set_xlabel("RMSE increase when shuffled (100k USD)")
        ax.set_title(title)
        return _save(fig, path)


def drift(psi: Mapping[str, float], threshold: float, drifted: list[str], title: str, path: str | os.PathLike) -> Path:
    """PSI per feature between the base's and the head's training data; drifted features in red."""
    with mpl.rc_context(_STYLE):
        fig, ax = _figure()
        names = sorted(psi, key=lambda name: psi[name])
        ax.barh(names, [psi[name] for name in names], color=["tab:red" if n in drifted else "tab:blue" for n in names])
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"PSI threshold {threshold:g}")
        ax.set_xlabel("population stability index (base -> head training data)")
        ax.set_title(title)
        ax.legend(loc="lower right")
        return _save(fig, path)
