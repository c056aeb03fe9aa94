"""CLI (the //model:model build step): train, evaluate, gate and write the model artifact directory."""

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from data.contract import TARGET
from data.feature_engineering import MODEL_FEATURES
from model import artifact, compiled, gate
from model.card import render_card
from model.metrics import regression_metrics
from model.train import TrainingConfig, load_config, train

FEATURE_FILES = ("train.parquet", "test.parquet", "manifest.json")


def _pick(paths: list[str]) -> dict[str, Path]:
    """Map the //data:features files (given in any order) to their base names."""
    found = {Path(p).name: Path(p) for p in paths}
    missing = [name for name in FEATURE_FILES if name not in found]
    if missing:
        raise ValueError(f"--features needs {', '.join(FEATURE_FILES)}; missing {', '.join(missing)}")
    return found


def build_metrics(config: TrainingConfig, result, test_metrics: dict, train_metrics: dict, manifest: dict) -> dict:
    """The metrics.json document (no timings: the file must be byte-deterministic)."""
    return {
        "model_name": artifact.MODEL_NAME,
        "data_hash": manifest["data_hash"],
        "test": test_metrics,
        "train": train_metrics,
        "validation": {"rmse": result.search["best"]["validation_rmse"]},
        "rows": {"train": manifest["train"]["rows"], "test": manifest["test"]["rows"]},
        "params": result.params,
        "estimator": type(result.estimator).__name__,
        "search": result.search,
        "config": config.as_dict(),
    }


def run(features: list[str], config_path: str, gate_path: str, out_dir: str) -> int:
    """Train from the feature files and write the artifact into ``out_dir``; returns the exit status."""
    started, cpu_started = time.monotonic(), time.process_time()
    files = _pick(features)
    manifest = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
    if list(manifest.get("model_features", MODEL_FEATURES)) != list(MODEL_FEATURES):
        raise ValueError("the features manifest lists other model features than data.feature_engineering")
    config = load_config(config_path)
    thresholds = gate.load_thresholds(gate_path)
    train_frame = pd.read_parquet(files["train.parquet"])
    test_frame = pd.read_parquet(files["test.parquet"])

    result = train(train_frame, config)
    features = list(MODEL_FEATURES)
    rounded = lambda m: {k: round(v, 6) for k, v in m.items()}  # noqa: E731 - stable, readable JSON
    test_metrics = rounded(
        regression_metrics(list(test_frame[TARGET.name]), list(result.estimator.predict(test_frame[features])))
    )
    train_metrics = rounded(
        regression_metrics(list(train_frame[TARGET.name]), list(result.estimator.predict(train_frame[features])))
    )

    problems = gate.failures(test_metrics, thresholds)
    if problems:
        print(f"train: QUALITY GATE FAILED ({gate_path}); the model is not written:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1

    # The compiled form must predict what sklearn predicts on every test row, or nothing is written.
    tables = compiled.export_tables(result.estimator)
    test_features = test_frame[features].to_numpy(dtype="float64")
    try:
        worst = compiled.check_equal(
            compiled.CompiledTrees(tables), result.estimator.predict(test_frame[features]), test_features
        )
    except compiled.CompiledModelError as error:
        print(f"train: COMPILED MODEL CHECK FAILED; the model is not written: {error}", file=sys.stderr)
        return 1
    compiled_info = compiled.signature_entry(tables, worst, len(test_features))

    model_bytes = artifact.dump_estimator(result.estimator)
    target = train_frame[TARGET.name]
    signature = artifact.build_signature(
        model_bytes, manifest["data_hash"], (target.min(), target.max()), test_metrics, compiled_info
    )
    metrics = build_metrics(config, result, test_metrics, train_metrics, manifest)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / artifact.MODEL_FILE).write_bytes(model_bytes)
    (out / compiled.TABLES_FILE).write_bytes(tables)
    (out / artifact.SIGNATURE_FILE).write_text(artifact.to_json(signature), encoding="utf-8")
    (out / artifact.METRICS_FILE).write_text(artifact.to_json(metrics), encoding="utf-8")
    (out / artifact.CARD_FILE).write_text(render_card(signature, metrics, thresholds), encoding="utf-8")
    print(
        f"train: model {signature['model_version']} test rmse {test_metrics['rmse']:.4f} mae {test_metrics['mae']:.4f} "
        f"r2 {test_metrics['r2']:.4f}; gate passed; compiled trees equal sklearn's on {len(test_features)} test rows "
        f"(max difference {worst:.3g}); {len(model_bytes)} bytes; "
        f"{time.monotonic() - started:.1f} s wall, {time.process_time() - cpu_started:.1f} s cpu",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="train",
        description="Train the housing model from //data:features, apply the quality gate and write "
        "model.skops, model.trees, signature.json, metrics.json and model_card.md into OUT_DIR.",
    )
    parser.add_argument("--features", nargs="+", required=True, help="train.parquet, test.parquet and manifest.json")
    parser.add_argument("--config", required=True, help="training config (model/configs/training.json)")
    parser.add_argument("--gate", required=True, help="quality gate thresholds (model/configs/quality_gate.json)")
    parser.add_argument("--out-dir", required=True, help="the artifact directory to write")
    args = parser.parse_args(argv)
    try:
        return run(args.features, args.config, args.gate, args.out_dir)
    except (OSError, ValueError, KeyError) as error:
        print(f"train: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
