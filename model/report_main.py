"""CLI (the //model:report build step): the model report of the built model: report.json, PNG plots, card."""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from data.contract import FEATURE_NAMES, TARGET
from data.drift import reference_statistics
from model import plots
from model.artifact import CARD_FILE, ModelLoadError, load_model, to_json
from model.report import build_report

REPORT_FILE = "report.json"
DRIFT_REFERENCE_FILE = "drift_reference.json"
PLOTS = {
    "predicted_vs_actual": "predicted_vs_actual.png",
    "residuals": "residuals.png",
    "feature_importance": "feature_importance.png",
}


def card_with_plots(card: str, report: dict) -> str:
    """The model card with a section embedding the report's plots (relative links: they sit next to it)."""
    metrics = report["metrics"]
    latency = report["latency_ms"]
    lines = [
        card.rstrip("\n"),
        "",
        "## Report",
        "",
        f"On the {report['rows']} test rows: RMSE {metrics['rmse']:.4f}, MAE {metrics['mae']:.4f}, "
        f"R² {metrics['r2']:.4f}. Single-row latency (median): "
        f"{latency['compiled']:.3f} ms served (compiled trees), {latency['sklearn']:.3f} ms through scikit-learn.",
        "",
        "| segment | rows | RMSE | MAE |",
        "| --- | --- | --- | --- |",
    ]
    for seg in report["segments"]:
        errors = f"{seg['rmse']:.4f} | {seg['mae']:.4f}" if seg["rows"] else "- | -"
        lines.append(f"| {seg['segment']} | {seg['rows']} | {errors} |")
    lines += [
        "",
        "![Predicted vs actual](predicted_vs_actual.png)",
        "",
        "![Residuals](residuals.png)",
        "",
        "![Permutation feature importance](feature_importance.png)",
        "",
    ]
    return "\n".join(lines)


def run(model_dir: Path, test_path: Path, train_path: Path, out_dir: Path) -> int:
    """Write the report of the model in ``model_dir`` on the test split into ``out_dir``; returns the exit status."""
    started = time.monotonic()
    model = load_model(model_dir)
    test = pd.read_parquet(test_path)
    report, predictions = build_report(model, test)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / REPORT_FILE).write_text(to_json(report), encoding="utf-8")
    reference = reference_statistics(pd.read_parquet(train_path, columns=[*FEATURE_NAMES, TARGET.name]))
    (out_dir / DRIFT_REFERENCE_FILE).write_text(to_json(reference), encoding="utf-8")
    actual = test[TARGET.name].to_numpy(dtype="float64")
    version = model.version
    plots.predicted_vs_actual(
        actual, predictions, f"Predicted vs actual, model {version}", out_dir / PLOTS["predicted_vs_actual"]
    )
    plots.residuals(actual, predictions, f"Residuals on the test split, model {version}", out_dir / PLOTS["residuals"])
    plots.feature_importance(
        report["feature_importance"], f"Permutation importance, model {version}", out_dir / PLOTS["feature_importance"]
    )
    card = (model_dir / CARD_FILE).read_text(encoding="utf-8")
    (out_dir / CARD_FILE).write_text(card_with_plots(card, report), encoding="utf-8")
    metrics = report["metrics"]
    print(
        f"report: model {version}: rmse {metrics['rmse']:.4f} mae {metrics['mae']:.4f} r2 {metrics['r2']:.4f}; "
        f"latency {report['latency_ms']['compiled']:.3f} ms compiled, {report['latency_ms']['sklearn']:.3f} ms "
        f"sklearn; {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="report",
        description="Score the model artifact on the test split and write report.json, drift_reference.json, "
        "the PNG plots and model_card.md (with the plots embedded) into OUT_DIR.",
    )
    parser.add_argument("--model-dir", required=True, type=Path, help="the //model:model artifact directory")
    parser.add_argument(
        "--features", nargs="+", required=True, help="the //data:features files (test.parquet and train.parquet used)"
    )
    parser.add_argument("--out-dir", required=True, type=Path, help="the report directory to write")
    args = parser.parse_args(argv)
    files = {Path(path).name: Path(path) for path in args.features}
    missing = [name for name in ("test.parquet", "train.parquet") if name not in files]
    if missing:
        parser.error(f"--features lacks {', '.join(missing)}")
    try:
        return run(args.model_dir, files["test.parquet"], files["train.parquet"], args.out_dir)
    except (OSError, ValueError, KeyError, ModelLoadError) as error:
        print(f"report: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
