"""Small valid housing tables for tests: every value inside the contract, no duplicate rows."""

import numpy as np
import pandas as pd

from data.contract import ALL_COLUMNS


def sample_frame(rows: int = 40, seed: int = 1, target: bool = True) -> pd.DataFrame:
    """A valid table of ``rows`` random rows (deterministic for a seed), optionally without the target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "MedInc": rng.uniform(1.0, 10.0, rows),
            "HouseAge": rng.integers(1, 53, rows).astype("float64"),
            "AveRooms": rng.uniform(3.0, 8.0, rows),
            "AveBedrms": rng.uniform(0.8, 1.5, rows),
            "Population": rng.integers(100, 5000, rows).astype("float64"),
            "AveOccup": rng.uniform(1.5, 4.5, rows),
            "Latitude": rng.uniform(33.0, 41.0, rows),
            "Longitude": rng.uniform(-123.5, -115.0, rows),
            "MedHouseVal": rng.uniform(0.5, 5.0, rows),
        },
        columns=[col.name for col in ALL_COLUMNS],
    )
    return frame if target else frame.drop(columns=["MedHouseVal"])
