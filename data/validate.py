"""CLI: validate a CSV or Parquet housing table against the data contract (bazel run //data:validate -- FILE)."""

import argparse
import sys

from data import validation
from data.contract import RAW
from tools.user_paths import user_path

EXIT_PASSED, EXIT_FAILED, EXIT_UNREADABLE, EXIT_CANNOT_WRITE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="validate",
        description=(
            "Validate a housing table (CSV or Parquet) against the data contract. Rows that fail "
            "go to a quarantine CSV with the reason for each; valid rows can be written as Parquet. "
            "The JSON report goes to --report (default: stdout); a short summary goes to stderr. "
            f"Exit status: {EXIT_PASSED} passed, {EXIT_FAILED} validation failed (row count, share of "
            f"quarantined rows, or sha256), {EXIT_UNREADABLE} the file cannot be validated at all "
            f"(unreadable, wrong format, missing columns, wrong types), {EXIT_CANNOT_WRITE} an output cannot be "
            "written (or the default quarantine file already exists)."
        ),
    )
    parser.add_argument("file", help="the CSV or Parquet file to validate")
    parser.add_argument("--report", help="where to write the JSON report (default: stdout)")
    parser.add_argument(
        "--quarantine",
        help="where to write the quarantined rows as CSV (default: FILE.quarantine.csv next to the input, "
        "which must not exist yet: an earlier quarantine is never overwritten unless you name it here)",
    )
    parser.add_argument("--valid-output", help="also write the valid rows (contract columns, float64) as Parquet")
    parser.add_argument(
        "--require-target",
        action="store_true",
        help="the target column must be present (training data); otherwise it is checked only if present",
    )
    parser.add_argument("--expected-rows", type=int, help="fail unless the file has exactly this many rows")
    parser.add_argument("--min-rows", type=int, default=1, help="fail when the file has fewer rows (default: 1)")
    parser.add_argument("--expected-sha256", help="fail unless the file's sha256 is this (the pinned data version)")
    parser.add_argument(
        "--pinned-raw",
        action="store_true",
        help=f"the file is the pinned raw table: expect its sha256 and {RAW.rows} rows (data/contract.py RAW)",
    )
    parser.add_argument(
        "--max-quarantine-fraction",
        type=float,
        default=validation.DEFAULT_MAX_QUARANTINE_FRACTION,
        help="fail when a larger share of rows is quarantined (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    source = user_path(args.file)
    if args.pinned_raw:
        args.expected_sha256 = args.expected_sha256 or RAW.sha256
        args.expected_rows = args.expected_rows or RAW.rows
    quarantine_path = (
        user_path(args.quarantine) if args.quarantine else source.with_name(source.name + ".quarantine.csv")
    )
    if not args.quarantine and quarantine_path.exists():
        print(
            f"validate: {quarantine_path} already exists; move it away or name the quarantine file with --quarantine",
            file=sys.stderr,
        )
        return EXIT_CANNOT_WRITE
    try:
        result = validation.validate_file(
            source,
            expected_sha256=args.expected_sha256,
            require_target=args.require_target,
            expected_rows=args.expected_rows,
            min_rows=args.min_rows,
            max_quarantine_fraction=args.max_quarantine_fraction,
        )
    except validation.DataFileError as error:
        print(f"validate: cannot validate: {error}", file=sys.stderr)
        return EXIT_UNREADABLE

    text = validation.report_json(result.report)
    try:
        validation.write_quarantine(result.quarantine, quarantine_path)
        if args.valid_output:
            validation.write_parquet(result.valid, user_path(args.valid_output))
        if args.report:
            user_path(args.report).write_text(text)
    except OSError as error:
        print(f"validate: cannot write an output: {error}", file=sys.stderr)
        return EXIT_CANNOT_WRITE
    if not args.report:
        sys.stdout.write(text)

    print(validation.summary(result.report), file=sys.stderr)
    print(f"  quarantine: {quarantine_path}", file=sys.stderr)
    if not result.passed:
        if args.report:  # a failed build step shows the full report in the build log
            sys.stderr.write(text)
        return EXIT_FAILED
    return EXIT_PASSED


if __name__ == "__main__":
    sys.exit(main())
