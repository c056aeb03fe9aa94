"""The build steps after validation: feature engineering, the train/test split and the data manifest."""

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from data.contract import SCHEMA_VERSION, SPLIT_SEED, TARGET, TEST_FRACTION
from data.feature_engineering import MODEL_FEATURES, add_features
from data.validation import write_parquet
from tools.hashing import sha256_file

PROCESSED_COLUMNS: tuple[str, ...] = (*MODEL_FEATURES, TARGET.name)


def featurize(valid: pd.DataFrame) -> pd.DataFrame:
    """The validated table with derived features: MODEL_FEATURES then the target, in input order.

    Raises:
        ValueError: when the target or a raw feature column is missing.
    """
    if TARGET.name not in valid.columns:
        raise ValueError(f"the validated table has no target column {TARGET.name!r}")
    return add_features(valid).loc[:, list(PROCESSED_COLUMNS)].reset_index(drop=True)


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 80/20 train/test split with the fixed seed (sklearn's train_test_split, shuffled)."""
    train, test = train_test_split(frame, test_size=TEST_FRACTION, random_state=SPLIT_SEED)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def data_hash(train_sha256: str, test_sha256: str) -> str:
    r"""One hash over the processed tables: sha256 of "train.parquet <sha>\ntest.parquet <sha>\n"."""
    text = f"train.parquet {train_sha256}\ntest.parquet {test_sha256}\n"
    return hashlib.sha256(text.encode()).hexdigest()


def write_split(features_path: str | os.PathLike, report_path: str | os.PathLike, out_dir: str | os.PathLike) -> dict:
    """Split the featurized table and write train.parquet, test.parquet and manifest.json.

    Args:
        features_path: the featurized table (Parquet) from ``featurize``.
        report_path: the validation report of the raw file (for its sha256 and row counts).
        out_dir: the output directory (created if needed).

    Returns:
        The manifest that was written.

    Raises:
        ValueError: when the validation report did not pass or the table lacks columns.
    """
    report = json.loads(Path(report_path).read_text())
    if report["status"] != "passed":
        raise ValueError(f"the validation report {report_path} has status {report['status']!r}")
    frame = pd.read_parquet(features_path)
    missing = [name for name in PROCESSED_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"{features_path} lacks column(s) {', '.join(missing)}")
    train, test = split(frame.loc[:, list(PROCESSED_COLUMNS)])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(train, out / "train.parquet")
    write_parquet(test, out / "test.parquet")
    train_sha, test_sha = sha256_file(out / "train.parquet"), sha256_file(out / "test.parquet")
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "raw": {"sha256": report["source"]["sha256"], "rows": report["counts"]["rows_in"]},
        "validation": report["counts"],
        "train": {"sha256": train_sha, "rows": len(train)},
        "test": {"sha256": test_sha, "rows": len(test)},
        "split": {"test_fraction": TEST_FRACTION, "seed": SPLIT_SEED},
        "model_features": list(MODEL_FEATURES),
        "target": TARGET.name,
        "data_hash": data_hash(train_sha, test_sha),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
