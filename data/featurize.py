"""CLI (a build step): add the derived features to the validated table (see //data:featurized)."""

import argparse
import sys

import pandas as pd

from data.pipeline import featurize
from data.validation import write_parquet


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="featurize",
        description="Read the validated table (Parquet), add the derived features, write Parquet.",
    )
    parser.add_argument("valid", help="the validated table written by validate --valid-output")
    parser.add_argument("output", help="where to write the featurized table (Parquet)")
    args = parser.parse_args(argv)
    try:
        frame = featurize(pd.read_parquet(args.valid))
    except (OSError, ValueError) as error:
        print(f"featurize: {error}", file=sys.stderr)
        return 1
    write_parquet(frame, args.output)
    print(f"featurize: {len(frame)} rows, {frame.shape[1]} columns -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
