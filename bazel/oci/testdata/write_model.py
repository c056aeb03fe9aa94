"""INTERIM: writes a small real model artifact (model.skops, signature.json) for the service image tests."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from data.contract import COLUMNS, TARGET
from data.feature_engineering import MODEL_FEATURES, add_features
from model import artifact


def main(argv: list[str] | None = None) -> int:
    """Trains a ridge regression on synthetic in-range records; writes the files with //model:artifact."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="model.skops to write")
    parser.add_argument("--signature", required=True, help="signature.json to write")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    rows = 500
    frame = pd.DataFrame({
        "MedInc": rng.uniform(0.5, 15.0, rows),
        "HouseAge": rng.uniform(1.0, 52.0, rows),
        "AveRooms": rng.uniform(2.0, 10.0, rows),
        "AveBedrms": rng.uniform(0.8, 2.0, rows),
        "Population": rng.uniform(100.0, 5000.0, rows),
        "AveOccup": rng.uniform(1.0, 6.0, rows),
        "Latitude": rng.uniform(32.6, 41.9, rows),
        "Longitude": rng.uniform(-124.3, -114.2, rows),
    })[[column.name for column in COLUMNS]]
    target = np.clip(0.4 * frame["MedInc"] + 0.5, TARGET.minimum, TARGET.maximum)
    model_bytes = artifact.dump_estimator(Ridge(alpha=1.0).fit(add_features(frame)[list(MODEL_FEATURES)], target))
    signature = artifact.build_signature(
        model_bytes,
        data_hash="synthetic-interim",
        target_range=(float(target.min()), float(target.max())),
        test_metrics={"rmse": 0.0, "mae": 0.0, "r2": 1.0},
    )
    Path(args.model).write_bytes(model_bytes)
    Path(args.signature).write_text(artifact.to_json(signature))
    return 0


if __name__ == "__main__":
    sys.exit(main())
