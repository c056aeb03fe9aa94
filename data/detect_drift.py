"""CLI: reference statistics of the training data, and drift checks of new batches against them."""

import argparse
import json
import sys
from pathlib import Path

from data import drift, validation
from tools.user_paths import user_path

EXIT_OK, EXIT_DRIFT, EXIT_UNREADABLE, EXIT_NO_VERDICT = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="detect_drift",
        description=(
            "Per-feature drift (PSI and the KS statistic) of a batch against the training data's reference "
            "statistics. 'reference' writes the statistics of a training table; 'check' compares a batch "
            "(CSV or Parquet; invalid rows are left out and counted) and prints the JSON report to stdout "
            f"or --report, a summary to stderr. Exit status of check: {EXIT_OK} no drift, {EXIT_DRIFT} drift, "
            f"{EXIT_UNREADABLE} unreadable input, {EXIT_NO_VERDICT} no verdict (a feature has fewer than "
            f"{drift.MIN_ROWS} valid values, e.g. an empty or entirely invalid batch, and none drifted)."
        ),
    )
    parser.add_argument(
        "--reference",
        help="reference statistics JSON for 'check'; a relative path is looked up in the runfiles (the "
        "default under bazel run is the training set's) and then in your working directory",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ref = commands.add_parser("reference", help="write the reference statistics of a training table")
    ref.add_argument("table", help="the training table (CSV or Parquet)")
    ref.add_argument("--output", required=True, help="where to write the statistics (JSON)")
    check = commands.add_parser("check", help="check a batch for drift")
    check.add_argument("batch", help="the batch (CSV or Parquet)")
    check.add_argument("--report", help="where to write the JSON report (default: stdout)")
    check.add_argument("--psi-threshold", type=float, default=drift.PSI_THRESHOLD, help="default: %(default)s")
    check.add_argument("--ks-threshold", type=float, default=drift.KS_THRESHOLD, help="default: %(default)s")
    return parser


def _reference_path(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() or candidate.exists() else user_path(path)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "reference":
            frame, _ = validation.read_table(user_path(args.table))
            stats = drift.reference_statistics(frame)
            user_path(args.output).write_text(json.dumps(stats, sort_keys=True) + "\n")
            print(f"detect_drift: reference statistics of {len(frame)} rows -> {args.output}", file=sys.stderr)
            return EXIT_OK
        if not args.reference:
            parser.error("check needs --reference")
        reference = json.loads(_reference_path(args.reference).read_text())
        result = validation.validate_frame(
            validation.read_table(user_path(args.batch))[0], max_quarantine_fraction=1.0, min_rows=0
        )
        report = drift.check_drift(
            reference, result.valid, psi_threshold=args.psi_threshold, ks_threshold=args.ks_threshold
        )
    except (validation.DataFileError, ValueError, OSError) as error:
        print(f"detect_drift: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    report["validation"] = result.report["counts"]
    text = json.dumps(report, indent=2, sort_keys=True) + "\n"
    if args.report:
        user_path(args.report).write_text(text)
    else:
        sys.stdout.write(text)
    counts = result.report["counts"]
    print(
        f"{drift.summary(report)}\n  ({counts['rows_valid']} valid rows compared, "
        f"{counts['rows_quarantined']} invalid rows left out)",
        file=sys.stderr,
    )
    return {drift.DRIFT: EXIT_DRIFT, drift.NO_DRIFT: EXIT_OK, drift.NOT_ENOUGH_DATA: EXIT_NO_VERDICT}[report["status"]]


if __name__ == "__main__":
    sys.exit(main())
