"""Training: a seeded, bounded hyperparameter search, then a HistGradientBoosting fit on MODEL_FEATURES."""

import itertools
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor, VotingRegressor
from sklearn.model_selection import train_test_split

from data.contract import TARGET
from data.feature_engineering import MODEL_FEATURES

# The hyperparameters the search may vary, each a HistGradientBoostingRegressor argument.
SEARCHABLE: tuple[str, ...] = ("max_leaf_nodes", "min_samples_leaf", "l2_regularization", "max_features")

# Early stopping inside one search trial: stop when the validation loss has not improved for
# this many iterations (the trial's curve is still scored at its best iteration).
_PATIENCE = 30


@dataclass(frozen=True)
class TrainingConfig:
    """What the training action does, read from model/configs/training.json.

    Attributes:
        seed: seeds the candidate sampling, the inner validation split and the estimators.
        n_candidates: how many hyperparameter sets the search tries (the budget).
        validation_fraction: share of the training set held out to score candidates.
        search_learning_rate: learning rate during the search.
        search_max_iter: most boosting iterations a candidate may use.
        space: candidate values per SEARCHABLE hyperparameter.
        learning_rate_scale: the final fit uses ``search_learning_rate * scale`` and
            ``best_iter / scale`` iterations (a smaller step, the same total shrinkage).
        ensemble_size: number of final estimators (different seeds) averaged; 1 = a single one.
    """

    seed: int
    n_candidates: int
    validation_fraction: float
    search_learning_rate: float
    search_max_iter: int
    space: dict[str, list[Any]] = field(default_factory=dict)
    learning_rate_scale: float = 1.0
    ensemble_size: int = 1

    def as_dict(self) -> dict[str, Any]:
        """The config as plain JSON-able data (for metrics.json and the registry)."""
        return {
            "seed": self.seed,
            "search": {
                "n_candidates": self.n_candidates,
                "validation_fraction": self.validation_fraction,
                "learning_rate": self.search_learning_rate,
                "max_iter": self.search_max_iter,
                "space": self.space,
            },
            "final": {"learning_rate_scale": self.learning_rate_scale, "ensemble_size": self.ensemble_size},
        }


def parse_config(document: dict[str, Any]) -> TrainingConfig:
    """Build a TrainingConfig from the JSON structure of training.json.

    Raises:
        ValueError: on a missing key, an unknown hyperparameter or an out-of-range value.
    """
    try:
        search, final = document["search"], document["final"]
        config = TrainingConfig(
            seed=int(document["seed"]),
            n_candidates=int(search["n_candidates"]),
            validation_fraction=float(search["validation_fraction"]),
            search_learning_rate=float(search["learning_rate"]),
            search_max_iter=int(search["max_iter"]),
            space={str(name): list(values) for name, values in search["space"].items()},
            learning_rate_scale=float(final["learning_rate_scale"]),
            ensemble_size=int(final["ensemble_size"]),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"training config is incomplete or malformed: {error!r}") from error
    unknown = sorted(set(config.space) - set(SEARCHABLE))
    if unknown:
        raise ValueError(f"training config searches unknown hyperparameters {unknown}; allowed: {list(SEARCHABLE)}")
    if any(not values for values in config.space.values()):
        raise ValueError("every searched hyperparameter needs at least one candidate value")
    if config.n_candidates < 1 or config.search_max_iter < 1 or config.ensemble_size < 1:
        raise ValueError("n_candidates, max_iter and ensemble_size must be at least 1")
    if not 0.0 < config.validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {config.validation_fraction}")
    if not 0.0 < config.learning_rate_scale <= 1.0 or config.search_learning_rate <= 0.0:
        raise ValueError("learning_rate must be positive and learning_rate_scale in (0, 1]")
    return config


def load_config(path: str | os.PathLike) -> TrainingConfig:
    """Read and check training.json at ``path``."""
    return parse_config(json.loads(Path(path).read_text(encoding="utf-8")))


def sample_candidates(space: dict[str, list[Any]], n_candidates: int, seed: int) -> list[dict[str, Any]]:
    """Draw up to ``n_candidates`` distinct hyperparameter sets from the grid ``space``.

    Seeded random search without replacement: the same space, budget and seed always give the
    same candidates in the same order. A budget at least the grid's size gives the whole grid.
    """
    names = sorted(space)
    grid = [dict(zip(names, values, strict=True)) for values in itertools.product(*(space[n] for n in names))]
    if n_candidates >= len(grid):
        return grid
    picks = np.random.default_rng(seed).choice(len(grid), size=n_candidates, replace=False)
    return [grid[int(i)] for i in picks]


def _rmse_curve(estimator: HistGradientBoostingRegressor) -> np.ndarray:
    """Validation RMSE after each boosting iteration of an estimator fitted with X_val.

    With ``scoring="loss"`` the estimator records minus its loss on the validation set before
    the first and after every iteration; the squared-error loss is half the mean squared error.
    """
    return np.sqrt(np.maximum(-2.0 * np.asarray(estimator.validation_score_[1:], dtype="float64"), 0.0))


def _log(message: str) -> None:
    print(f"train: {message}", file=sys.stderr, flush=True)


def search(train: pd.DataFrame, config: TrainingConfig) -> dict[str, Any]:
    """Score each sampled candidate on an inner hold-out of the training set.

    Each candidate is fitted once (early stopping on the hold-out) and scored at its best
    iteration, so the result also gives the number of iterations to train. The test set is
    never seen here.

    Returns:
        ``{"trials": [...], "best": {"params": ..., "best_iter": int, "validation_rmse": float}}``;
        trials are in candidate order and ties go to the earlier candidate.
    """
    features, target = _xy(train)
    fit_x, val_x, fit_y, val_y = train_test_split(
        features, target, test_size=config.validation_fraction, random_state=config.seed
    )
    trials = []
    for index, params in enumerate(sample_candidates(config.space, config.n_candidates, config.seed)):
        estimator = HistGradientBoostingRegressor(
            **params,
            learning_rate=config.search_learning_rate,
            max_iter=config.search_max_iter,
            early_stopping=True,
            n_iter_no_change=_PATIENCE,
            scoring="loss",
            random_state=config.seed,
        )
        estimator.fit(fit_x, fit_y, X_val=val_x, y_val=val_y)
        curve = _rmse_curve(estimator)
        best = int(np.argmin(curve))
        trial = {"params": params, "best_iter": best + 1, "validation_rmse": round(float(curve[best]), 6)}
        trials.append(trial)
        _log(f"trial {index + 1}/{config.n_candidates}: {params} -> rmse {curve[best]:.4f} at iteration {best + 1}")
    best_trial = min(trials, key=lambda t: t["validation_rmse"])
    return {"trials": trials, "best": best_trial}


def final_params(config: TrainingConfig, best: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters of the final fit: the best trial's, with the scaled learning rate."""
    return {
        **best["params"],
        "learning_rate": config.search_learning_rate * config.learning_rate_scale,
        "max_iter": math.ceil(best["best_iter"] / config.learning_rate_scale),
        "early_stopping": False,
    }


def fit_final(train: pd.DataFrame, config: TrainingConfig, params: dict[str, Any]) -> Any:
    """Fit the final estimator on the whole training set.

    With ``ensemble_size`` > 1 it is a VotingRegressor averaging that many estimators that
    differ only in their seed (which matters through ``max_features`` sampling).
    """
    features, target = _xy(train)
    if config.ensemble_size == 1:
        return HistGradientBoostingRegressor(**params, random_state=config.seed).fit(features, target)
    members = [
        (f"seed{config.seed + i}", HistGradientBoostingRegressor(**params, random_state=config.seed + i))
        for i in range(config.ensemble_size)
    ]
    return VotingRegressor(members).fit(features, target)


def _xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The MODEL_FEATURES block and the target of a processed table.

    Raises:
        ValueError: when a column is missing or the target has missing values.
    """
    missing = [name for name in (*MODEL_FEATURES, TARGET.name) if name not in frame.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {', '.join(missing)}")
    target = frame[TARGET.name].to_numpy(dtype="float64")
    if not np.all(np.isfinite(target)):
        raise ValueError(f"the target {TARGET.name} has missing or infinite values")
    return frame.loc[:, list(MODEL_FEATURES)], target


@dataclass(frozen=True)
class TrainingResult:
    """What ``train`` returns.

    Attributes:
        estimator: the fitted final estimator.
        params: the final estimator's hyperparameters.
        search: the search report (trials and best).
    """

    estimator: Any
    params: dict[str, Any]
    search: dict[str, Any]


def train(train_frame: pd.DataFrame, config: TrainingConfig) -> TrainingResult:
    """Search hyperparameters on ``train_frame``, then fit the final model on all of it."""
    report = search(train_frame, config)
    params = final_params(config, report["best"])
    _log(f"final fit: {params} x{config.ensemble_size}")
    return TrainingResult(estimator=fit_final(train_frame, config, params), params=params, search=report)
