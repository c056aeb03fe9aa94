"""CLI: the model report of a change, base against head: the metrics table (markdown), the plots, the data drift.

    bazel run //model:compare_reports -- --head DIR [--base DIR] [--head-train PARQUET] --out DIR

DIR is a //model:report output directory (bazel-bin/model/report) built at each revision;
tools/ci builds the head's in the workspace and the base's in the affected tool's base
checkout. The markdown goes to stdout and OUT/model_report.md; the PNGs of both sides are
copied into OUT/base and OUT/head (so the links resolve from OUT); when the two training sets
differ (their data hashes do), OUT/drift.png shows the per-feature PSI of the head's training
data against the base's. Exit status 0 (a worse model is reported, not a failure), 1 when a
report cannot be read, 2 for bad usage.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from data.contract import FEATURE_NAMES
from data.drift import PSI_THRESHOLD, check_drift
from model import plots
from model.report_main import DRIFT_REFERENCE_FILE, PLOTS, REPORT_FILE
from tools.user_paths import user_path

MARKDOWN_FILE = "model_report.md"
DRIFT_PLOT = "drift.png"
# Differences smaller than this are rounding, not a change (metrics are in 100k USD).
METRIC_TOLERANCE = 1e-6
# Latency is measured on whatever machine built each side: only a large change is flagged.
LATENCY_TOLERANCE = 0.25

# (row name, how to read it from a report, which direction is better, tolerance, relative?, format)
_ROWS: list[tuple[str, tuple[str, ...], str, float, bool, str]] = [
    ("RMSE", ("metrics", "rmse"), "lower", METRIC_TOLERANCE, False, "{:.4f}"),
    ("MAE", ("metrics", "mae"), "lower", METRIC_TOLERANCE, False, "{:.4f}"),
    ("R²", ("metrics", "r2"), "higher", METRIC_TOLERANCE, False, "{:.4f}"),
    ("model.skops size (bytes)", ("size_bytes", "model.skops"), "none", 0.0, False, "{:,.0f}"),
    ("model.trees size (bytes)", ("size_bytes", "model.trees"), "none", 0.0, False, "{:,.0f}"),
    ("single-row latency, served (ms)", ("latency_ms", "compiled"), "lower", LATENCY_TOLERANCE, True, "{:.3f}"),
    ("single-row latency, sklearn (ms)", ("latency_ms", "sklearn"), "lower", LATENCY_TOLERANCE, True, "{:.3f}"),
]


def _get(report: dict | None, path: tuple[str, ...]) -> float | None:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) else None


def verdict(base: float | None, head: float | None, better: str, tolerance: float, relative: bool) -> str:
    """``worse``, ``better``, ``same`` or ``""`` (no direction, or a side missing) for one row."""
    if base is None or head is None or better == "none":
        return ""
    delta = head - base
    bound = tolerance * abs(base) if relative else tolerance
    if abs(delta) <= bound:
        return "same"
    return "worse" if (delta > 0) == (better == "lower") else "better"


def table_rows(base: dict | None, head: dict) -> list[dict[str, Any]]:
    """The table: one row per metric with base, head, delta and verdict; then one row per segment's RMSE."""
    rows = []
    for name, path, better, tolerance, relative, fmt in _ROWS:
        b, h = _get(base, path), _get(head, path)
        rows.append(
            {"name": name, "base": b, "head": h, "format": fmt, "verdict": verdict(b, h, better, tolerance, relative)}
        )
    base_segments = {seg["segment"]: seg for seg in (base or {}).get("segments", [])}
    for seg in head.get("segments", []):
        b = base_segments.get(seg["segment"], {}).get("rmse")
        h = seg["rmse"]
        rows.append(
            {
                "name": f"RMSE, {seg['segment']} ({seg['rows']} rows)",
                "base": b,
                "head": h,
                "format": "{:.4f}",
                "verdict": verdict(b, h, "lower", METRIC_TOLERANCE, False),
            }
        )
    return rows


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _delta(row: dict[str, Any]) -> str:
    if row["base"] is None or row["head"] is None:
        return "-"
    delta = row["head"] - row["base"]
    text = ("+" if delta >= 0 else "") + row["format"].format(delta)
    if row["base"]:
        text += f" ({delta / abs(row['base']):+.1%})"
    return text


def markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    """The rows as a markdown table; a worse value is marked **worse**."""
    lines = ["| | base | head | delta | |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        mark = {"worse": "**worse**", "better": "better", "same": "same"}.get(row["verdict"], "")
        lines.append(
            f"| {row['name']} | {_cell(row['base'], row['format'])} | {_cell(row['head'], row['format'])} "
            f"| {_delta(row)} | {mark} |"
        )
    return lines


def _read_report(directory: Path) -> dict:
    path = directory / REPORT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the model report {path}: {error}") from error


def _copy_plots(source: Path, target: Path) -> list[str]:
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in PLOTS.values():
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
            copied.append(name)
    return copied


def drift_section(base_dir: Path, head_train: Path, out: Path) -> list[str]:
    """Per-feature drift of the head's training data against the base's reference; draws OUT/drift.png."""
    reference_path = base_dir / DRIFT_REFERENCE_FILE
    if not reference_path.is_file():
        return [f"Data changed, but the base has no {DRIFT_REFERENCE_FILE}: no drift comparison."]
    reference = json.loads(reference_path.read_text(encoding="utf-8"))
    report = check_drift(reference, pd.read_parquet(head_train))
    features = {name: entry for name, entry in report["features"].items() if name in FEATURE_NAMES}
    psi = {name: entry["psi"] for name, entry in features.items() if entry["judged"]}
    drifted = [name for name in report["drifted_features"] if name in features]
    plots.drift(psi, PSI_THRESHOLD, drifted, "Training data drift, base -> head", out / DRIFT_PLOT)
    lines = [
        "Training data changed: "
        + ("drift in " + ", ".join(f"`{n}`" for n in drifted) if drifted else "no feature drifted")
        + f" (PSI >= {PSI_THRESHOLD:g} or KS >= {report['thresholds']['ks_statistic']:g}). [drift plot]({DRIFT_PLOT})",
        "",
        "| feature | PSI | KS | mean base -> head |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {name} | {e['psi']:.3f} | {e['ks_statistic']:.3f} | {e['reference_mean']:.3f} -> {e['batch_mean']:.3f} |"
        for name, e in features.items()
        if e["judged"]
    ]
    return lines


def compare(base_dir: Path | None, head_dir: Path, head_train: Path | None, out: Path, link_prefix: str = "") -> str:
    """Write the base-vs-head report into ``out`` and return its markdown.

    Args:
        base_dir: the base's report directory, or None when the base has none.
        head_dir: the head's report directory.
        head_train: the head's train.parquet (for the drift comparison), or None.
        out: where the markdown, the copied plots and the drift plot go.
        link_prefix: prepended to the plot links (e.g. the folder ``out`` is published as).

    Raises:
        ValueError: when a report cannot be read.
    """
    head = _read_report(head_dir)
    base = _read_report(base_dir) if base_dir is not None else None
    out.mkdir(parents=True, exist_ok=True)
    lines = ["## Model report", ""]
    if base is None:
        lines += ["The base revision has no `//model:report`: head only.", ""]
    else:
        same = " (same model)" if base["model_version"] == head["model_version"] else ""
        lines += [f"Model `{base['model_version']}` (base) -> `{head['model_version']}` (head){same}, "
                  f"on the test split ({head['rows']} rows at the head).", ""]  # fmt: skip
    lines += [*markdown_table(table_rows(base, head)), ""]
    links = []
    for side, directory in (("head", head_dir), ("base", base_dir)):
        if directory is None:
            continue
        copied = _copy_plots(directory, out / side)
        links += [
            f"[{side}: {name.removesuffix('.png').replace('_', ' ')}]({link_prefix}{side}/{name})" for name in copied
        ]
    lines += ["Plots: " + ", ".join(links), ""]
    if base is not None and head_train is not None and base.get("data_hash") != head.get("data_hash"):
        section = drift_section(base_dir, head_train, out)
        lines += [line.replace(f"]({DRIFT_PLOT})", f"]({link_prefix}{DRIFT_PLOT})") for line in section] + [""]
    md = "\n".join(lines)
    (out / MARKDOWN_FILE).write_text(md, encoding="utf-8")
    return md


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(prog="compare_reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", required=True, help="the head's //model:report directory")
    parser.add_argument("--base", help="the base's //model:report directory (omit when the base has none)")
    parser.add_argument("--head-train", help="the head's train.parquet (drift comparison when the data changed)")
    parser.add_argument("--out", required=True, help="where the markdown and the plots go")
    parser.add_argument("--link-prefix", default="", help="prefix for the plot links in the markdown")
    args = parser.parse_args(argv)
    try:
        md = compare(
            user_path(args.base) if args.base else None,
            user_path(args.head),
            user_path(args.head_train) if args.head_train else None,
            user_path(args.out),
            args.link_prefix,
        )
    except (OSError, ValueError, KeyError) as error:
        print(f"compare_reports: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
