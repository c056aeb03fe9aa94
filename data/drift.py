"""Drift of a new batch against the training data's reference statistics: per-feature PSI and KS."""

import numpy as np
import pandas as pd
from scipy import stats

from data.contract import ALL_COLUMNS, FEATURE_NAMES, SCHEMA_VERSION

REFERENCE_FORMAT = "data-drift-reference/1"
BINS = 10
# The reference keeps this many evenly spaced order statistics per column (a deterministic,
# representative sample) so the KS test can run without the training table itself.
SAMPLE_SIZE = 1000
# Conventional PSI reading: < 0.1 stable, 0.1-0.2 moderate shift, > 0.2 significant shift.
PSI_THRESHOLD = 0.2
# The KS statistic (largest gap between the two CDFs) is the decision, not its p-value: on
# batches of many thousand rows a p-value flags shifts too small to matter.
KS_THRESHOLD = 0.1
# Below this many rows per feature the proportions are noise; such features are not judged,
# and a batch with an unjudged feature and no drift elsewhere gets no verdict (never "no drift").
MIN_ROWS = 50
# The verdicts of a check, in the report's "status".
DRIFT, NO_DRIFT, NOT_ENOUGH_DATA = "drift", "no_drift", "not_enough_data"
_FLOOR = 1e-4  # proportions are floored so an empty bin does not make PSI infinite


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of values in the bins (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    return np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)


def reference_statistics(frame: pd.DataFrame, bins: int = BINS, sample_size: int = SAMPLE_SIZE) -> dict:
    """Reference statistics of the training data for every contract column present.

    Per column: the interior bin edges (deciles by default, deduplicated for discrete or
    capped columns), the share of rows in each bin, summary moments and an evenly spaced
    sample of order statistics for the KS test.

    Args:
        frame: the training table (numeric contract columns; other columns are ignored).
        bins: the number of quantile bins.
        sample_size: the number of order statistics kept per column.

    Raises:
        ValueError: when no feature column is present or a column is empty.
    """
    names = [col.name for col in ALL_COLUMNS if col.name in frame.columns]
    if not set(FEATURE_NAMES) & set(names):
        raise ValueError(f"no contract feature column in the table; got {list(frame.columns)}")
    columns = {}
    for name in names:
        values = frame[name].to_numpy(dtype="float64")
        values = np.sort(values[np.isfinite(values)])
        if len(values) == 0:
            raise ValueError(f"column {name!r} has no finite values")
        edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
        counts = _bin_counts(values, edges)
        ranks = np.linspace(0, len(values) - 1, min(sample_size, len(values))).round().astype(int)
        columns[name] = {
            "rows": len(values),
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values[0]),
            "max": float(values[-1]),
            "edges": edges.tolist(),
            "proportions": (counts / counts.sum()).tolist(),
            "sample": values[ranks].tolist(),
        }
    return {"format": REFERENCE_FORMAT, "schema_version": SCHEMA_VERSION, "columns": columns}


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two bin-proportion vectors (floored at 1e-4)."""
    expected = np.maximum(np.asarray(expected, dtype="float64"), _FLOOR)
    actual = np.maximum(np.asarray(actual, dtype="float64"), _FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def check_drift(
    reference: dict,
    frame: pd.DataFrame,
    psi_threshold: float = PSI_THRESHOLD,
    ks_threshold: float = KS_THRESHOLD,
    min_rows: int = MIN_ROWS,
) -> dict:
    """Compare a batch with the reference statistics, feature by feature.

    A feature drifted when its PSI reaches ``psi_threshold`` or its KS statistic reaches
    ``ks_threshold``. A feature with fewer than ``min_rows`` finite values is not judged: its
    ``drifted`` is None, and the batch's status is ``not_enough_data`` unless another feature
    drifted. Columns of the reference missing from the batch are an error for features; the
    target is compared only when the batch has it.

    Args:
        reference: the output of ``reference_statistics`` (e.g. reference_stats.json).
        frame: the batch (numeric contract columns).
        psi_threshold: PSI at or above which a feature drifted.
        ks_threshold: KS statistic at or above which a feature drifted.
        min_rows: features with fewer finite values are reported but not judged.

    Returns:
        {"status": "drift" | "no_drift" | "not_enough_data", "drifted": bool, "drifted_features": [...],
        "not_judged": [...], "thresholds": {...}, "features": {name: {...}}}

    Raises:
        ValueError: when the reference is not one, or the batch lacks a feature column.
    """
    if reference.get("format") != REFERENCE_FORMAT:
        raise ValueError(f"not a drift reference (format {reference.get('format')!r}, want {REFERENCE_FORMAT!r})")
    missing = [name for name in reference["columns"] if name in FEATURE_NAMES and name not in frame.columns]
    if missing:
        raise ValueError(f"the batch lacks feature column(s) {', '.join(missing)}")
    features = {}
    for name, ref in reference["columns"].items():
        if name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        entry = {"rows": len(values), "reference_mean": ref["mean"]}
        if len(values) < min_rows:
            entry.update({"judged": False, "drifted": None, "note": f"fewer than {min_rows} values"})
            features[name] = entry
            continue
        counts = _bin_counts(values, np.asarray(ref["edges"]))
        ks = stats.ks_2samp(np.asarray(ref["sample"]), values)
        entry.update(
            {
                "judged": True,
                "batch_mean": float(values.mean()),
                "psi": psi(ref["proportions"], counts / counts.sum()),
                "ks_statistic": float(ks.statistic),
                "ks_pvalue": float(ks.pvalue),
            }
        )
        entry["drifted"] = bool(entry["psi"] >= psi_threshold or entry["ks_statistic"] >= ks_threshold)
        features[name] = entry
    drifted = [name for name, entry in features.items() if entry["drifted"]]
    not_judged = [name for name, entry in features.items() if not entry["judged"]]
    status = DRIFT if drifted else NOT_ENOUGH_DATA if not_judged else NO_DRIFT
    return {
        "status": status,
        "drifted": bool(drifted),
        "drifted_features": drifted,
        "not_judged": not_judged,
        "thresholds": {"psi": psi_threshold, "ks_statistic": ks_threshold, "min_rows": min_rows},
        "features": features,
    }


def summary(report: dict) -> str:
    """A short human-readable summary of a drift report."""
    headlines = {
        DRIFT: "DRIFT in " + ", ".join(report["drifted_features"]),
        NO_DRIFT: "no drift",
        NOT_ENOUGH_DATA: "NO VERDICT: too few valid values to judge " + ", ".join(report["not_judged"]),
    }
    lines = [headlines[report["status"]]]
    for name, entry in report["features"].items():
        if not entry["judged"]:
            lines.append(f"  {name:<12} not judged: {entry['note']}")
            continue
        flag = "DRIFTED" if entry["drifted"] else "ok"
        lines.append(
            f"  {name:<12} psi {entry['psi']:7.3f}  ks {entry['ks_statistic']:.3f}  "
            f"mean {entry['reference_mean']:.3f} -> {entry['batch_mean']:.3f}  {flag}"
        )
    return "\n".join(lines)
