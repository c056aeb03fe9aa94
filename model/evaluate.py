"""CLI: score a model artifact on a validated dataset (Parquet or CSV with the raw columns and target).

bazel run //model:evaluate -- <model dir> <data file>
"""

import argparse
import json
import os
import sys
from typing import Any

from data.contract import TARGET
from data.validation import DataFileError, summary, validate_file
from model.artifact import ModelLoadError, load_model
from model.metrics import regression_metrics
from tools.user_paths import user_path


def evaluate(model_dir: str | os.PathLike, data_path: str | os.PathLike) -> dict[str, Any]:
    """Validate ``data_path`` against the contract and score the model on its valid rows.

    Rows the validation quarantines are not scored; their count is reported.

    Raises:
        ModelLoadError: when the model cannot be loaded.
        DataFileError: when the data cannot be read or fails validation.
    """
    model = load_model(model_dir)
    result = validate_file(data_path, require_target=True)
    if not result.passed:
        raise DataFileError(f"{data_path} failed validation:\n{summary(result.report)}")
    valid = result.valid
    predictions = model.predict(valid)
    return {
        "model": {"name": model.signature["model_name"], "version": model.version, "directory": str(model_dir)},
        "data": {
            "path": str(data_path),
            "sha256": result.report["source"]["sha256"],
            "rows": int(result.report["counts"]["rows_in"]),
            "rows_scored": len(valid),
            "rows_quarantined": int(result.report["counts"]["rows_quarantined"]),
        },
        "metrics": regression_metrics(list(valid[TARGET.name]), list(predictions)),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the CLI: JSON metrics on stdout, errors on stderr; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="evaluate",
        description="Score a model directory (model.skops + signature.json) on a Parquet/CSV file holding "
        "the 8 raw feature columns and MedHouseVal; prints the metrics as JSON.",
    )
    parser.add_argument("model_dir", help="model directory, e.g. bazel-bin/model/artifact")
    parser.add_argument("data", help="Parquet or CSV file with the raw columns and the target")
    args = parser.parse_args(argv)
    try:
        report = evaluate(user_path(args.model_dir), user_path(args.data))
    except (ModelLoadError, DataFileError) as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 1
    metrics = report["metrics"]
    print(
        f"evaluate: model {report['model']['version']} on {report['data']['rows_scored']} rows: "
        f"rmse {metrics['rmse']:.4f} mae {metrics['mae']:.4f} r2 {metrics['r2']:.4f}",
        file=sys.stderr,
    )
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
