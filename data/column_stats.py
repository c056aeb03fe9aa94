"""Per-column statistics of the valid rows for the validation report: outlier counts, min/max/mean."""

import numpy as np
import pandas as pd

# Values this many inter-quartile ranges beyond the quartiles are counted as outliers. The
# real table has legitimate extremes (AveOccup 1243 in a dormitory block), so outliers are
# reported, not quarantined; the contract's ranges are the hard limits.
OUTLIER_IQR_FACTOR = 3.0
# Quartiles of larger tables come from an evenly strided sample of this many rows.
OUTLIER_SAMPLE = 100_000


def outlier_counts(valid: pd.DataFrame) -> dict[str, int]:
    """Per column, the count of valid values beyond OUTLIER_IQR_FACTOR IQRs of the quartiles.

    On large tables the quartiles come from an evenly strided sample of at most
    OUTLIER_SAMPLE rows: outliers are a warning, and exact quartiles cost more than the checks.
    """
    out = {}
    for name in valid.columns:
        values = valid[name].to_numpy()
        if len(values) == 0:
            out[name] = 0
            continue
        sample = values[:: max(1, len(values) // OUTLIER_SAMPLE)]
        q1, q3 = np.quantile(sample, [0.25, 0.75])
        spread = OUTLIER_IQR_FACTOR * (q3 - q1)
        out[name] = int(((values < q1 - spread) | (values > q3 + spread)).sum())
    return out


def column_statistics(valid: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """Min, max and mean of each column over the valid rows (None when there are none)."""
    stats = {}
    for name in valid.columns:
        values = valid[name].to_numpy()
        if len(values) == 0:
            stats[name] = {"min": None, "max": None, "mean": None}
        else:
            stats[name] = {"min": float(values.min()), "max": float(values.max()), "mean": float(values.mean())}
    return stats
