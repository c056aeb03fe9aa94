"""Helpers for the predict tests: a small real model written in the artifact format, and records."""

from pathlib import Path

import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from data.contract import COLUMNS, TARGET
from data.feature_engineering import MODEL_FEATURES, add_features
from model import artifact, compiled
from model.metrics import regression_metrics
from model.testing import synthetic_raw

RECORD = {
    "MedInc": 8.3252,
    "HouseAge": 41.0,
    "AveRooms": 6.98,
    "AveBedrms": 1.02,
    "Population": 322.0,
    "AveOccup": 2.56,
    "Latitude": 37.88,
    "Longitude": -122.23,
}


# The synthetic rows the model is scored on: drawn apart from its training rows (seed 0).
HOLDOUT_ROWS, HOLDOUT_SEED = 500, 1


def _model_features(frame: pd.DataFrame) -> pd.DataFrame:
    return add_features(frame[[column.name for column in COLUMNS]])[list(MODEL_FEATURES)]


def write_model(directory: Path, rows: int = 2000) -> Path:
    """Train a small real model on synthetic data and write it into ``directory``.

    model.skops, model.trees and signature.json are in the format //model:model produces
    (written with //model:artifact's and //model:compiled's own functions, including the
    equality check of the compiled trees). Its test metrics are the ones it achieves on
    ``synthetic_raw(HOLDOUT_ROWS, HOLDOUT_SEED)``, so what /v1/model reports for it is true (of
    synthetic data; its data_hash says "synthetic").
    """
    directory.mkdir(parents=True, exist_ok=True)
    frame = synthetic_raw(rows, seed=0)
    target = frame[TARGET.name]
    features = _model_features(frame)
    estimator = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(features, target)
    holdout = synthetic_raw(HOLDOUT_ROWS, seed=HOLDOUT_SEED)
    test_metrics = regression_metrics(list(holdout[TARGET.name]), list(estimator.predict(_model_features(holdout))))
    model_bytes = artifact.dump_estimator(estimator)
    tables = compiled.export_tables(estimator)
    worst = compiled.check_equal(compiled.CompiledTrees(tables), estimator.predict(features), features.to_numpy())
    signature = artifact.build_signature(
        model_bytes,
        data_hash="synthetic",
        target_range=(float(target.min()), float(target.max())),
        test_metrics=test_metrics,
        compiled=compiled.signature_entry(tables, worst, len(features)),
    )
    (directory / artifact.MODEL_FILE).write_bytes(model_bytes)
    (directory / compiled.TABLES_FILE).write_bytes(tables)
    (directory / artifact.SIGNATURE_FILE).write_text(artifact.to_json(signature))
    return directory
