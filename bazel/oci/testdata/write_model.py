"""INTERIM: writes a small real model (model.skops, signature.json) for the predict image test."""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io
from sklearn.linear_model import Ridge

from data.contract import COLUMNS, TARGET
from data.feature_engineering import MODEL_FEATURES, add_features


def main(argv: list[str] | None = None) -> int:
    """Trains a ridge regression on synthetic in-range records and writes the artifact files."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="model.skops to write")
    parser.add_argument("--signature", required=True, help="signature.json to write")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    rows = 500
    frame = pd.DataFrame({c.name: rng.uniform(max(c.minimum, 0.5) if c.minimum >= 0 else c.minimum,
                                              min(c.maximum, c.minimum + 50) if c.minimum < 0 else min(c.maximum, 50),
                                              rows) for c in COLUMNS})
    target = np.clip(0.4 * frame["MedInc"] + 0.5, TARGET.minimum, TARGET.maximum)
    features = add_features(frame)[list(MODEL_FEATURES)]
    blob = skops.io.dumps(Ridge(alpha=1.0).fit(features, target))
    Path(args.model).write_bytes(blob)
    signature = {
        "model_name": "california-housing",
        "model_version": hashlib.sha256(blob).hexdigest()[:12],
        "data_hash": "synthetic-interim",
        "inputs": [{"name": c.name, "dtype": c.dtype, "minimum": c.minimum, "maximum": c.maximum,
                    "required": not c.nullable, "description": c.description} for c in COLUMNS],
        "model_features": list(MODEL_FEATURES),
        "target": {"name": TARGET.name, "unit": "100k USD", "minimum": TARGET.minimum, "maximum": TARGET.maximum},
        "metrics": {"test": {"rmse": 0.0, "mae": 0.0, "r2": 1.0}},
    }
    Path(args.signature).write_text(json.dumps(signature, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
