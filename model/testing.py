"""Test helpers: synthetic raw frames and the paths of built outputs in a test's runfiles."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.contract import TARGET


def synthetic_raw(rows: int, seed: int) -> pd.DataFrame:
    """Rows inside the contract's ranges; the target rises with income (and a little with latitude)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "MedInc": rng.uniform(0.5, 15.0, rows),
            "HouseAge": rng.uniform(1.0, 52.0, rows),
            "AveRooms": rng.uniform(3.0, 8.0, rows),
            "AveBedrms": rng.uniform(0.8, 1.5, rows),
            "Population": rng.uniform(100.0, 5000.0, rows),
            "AveOccup": rng.uniform(1.5, 5.0, rows),
            "Latitude": rng.uniform(32.6, 41.9, rows),
            "Longitude": rng.uniform(-124.3, -114.5, rows),
        }
    )
    noise = rng.normal(0.0, 0.1, rows)
    frame[TARGET.name] = np.clip(0.3 * frame["MedInc"] + 0.05 * (frame["Latitude"] - 32.0) + noise, 0.15, 5.0)
    return frame


def _env_path(name: str) -> Path:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"${name} is not set: run this test with bazel test (BUILD.bazel passes the path)")
    return Path(value)


def built_model_dir() -> Path:
    """The artifact directory //model:model built (from $MODEL_SKOPS in the test's env)."""
    return _env_path("MODEL_SKOPS").parent


def features_files() -> dict[str, Path]:
    """train.parquet, test.parquet and manifest.json of //data:features (from $FEATURES)."""
    paths = [Path(p) for p in os.environ.get("FEATURES", "").split()]
    if not paths:
        pytest.fail("$FEATURES is not set: run this test with bazel test")
    return {path.name: path for path in paths}
