"""Helpers for the predict tests: a small real model written in the artifact format, and records."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from data.contract import COLUMNS, TARGET
from data.feature_engineering import MODEL_FEATURES, add_features
from model import artifact, compiled

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


def synthetic_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Raw records inside the contract's ranges, with a target that rises with income."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "MedInc": rng.uniform(0.5, 15.0, rows),
            "HouseAge": rng.uniform(1.0, 52.0, rows),
            "AveRooms": rng.uniform(2.0, 10.0, rows),
            "AveBedrms": rng.uniform(0.8, 2.0, rows),
            "Population": rng.uniform(100.0, 5000.0, rows),
            "AveOccup": rng.uniform(1.0, 6.0, rows),
            "Latitude": rng.uniform(32.6, 41.9, rows),
            "Longitude": rng.uniform(-124.3, -114.2, rows),
        }
    )
    frame[TARGET.name] = np.clip(0.4 * frame["MedInc"] - 0.02 * frame["HouseAge"] + rng.normal(0, 0.1, rows), 0.15, 5)
    return frame


def write_model(directory: Path, rows: int = 2000) -> Path:
    """Train a small real model on synthetic data and write model.skops, model.trees and signature.json,
    in the format //model:model produces (written with //model:artifact's and //model:compiled's own
    functions, including the equality check of the compiled trees), into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    frame = synthetic_frame(rows)
    features = add_features(frame[[column.name for column in COLUMNS]])[list(MODEL_FEATURES)]
    estimator = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(features, frame[TARGET.name])
    model_bytes = artifact.dump_estimator(estimator)
    tables = compiled.export_tables(estimator)
    worst = compiled.check_equal(compiled.CompiledTrees(tables), estimator.predict(features), features.to_numpy())
    target = frame[TARGET.name]
    signature = artifact.build_signature(
        model_bytes,
        data_hash="synthetic",
        target_range=(float(target.min()), float(target.max())),
        test_metrics={"rmse": 0.1, "mae": 0.08, "r2": 0.9},
        compiled=compiled.signature_entry(tables, worst, len(features)),
    )
    (directory / artifact.MODEL_FILE).write_bytes(model_bytes)
    (directory / compiled.TABLES_FILE).write_bytes(tables)
    (directory / artifact.SIGNATURE_FILE).write_text(artifact.to_json(signature))
    return directory
