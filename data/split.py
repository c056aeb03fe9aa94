"""CLI (a build step): the 80/20 train/test split and the data manifest (see //data:features)."""

import argparse
import sys

from data.pipeline import write_split


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="split",
        description="Split the featurized table 80/20 (seed 42); write train.parquet, test.parquet, manifest.json.",
    )
    parser.add_argument("features", help="the featurized table (Parquet)")
    parser.add_argument("report", help="the raw file's validation report (JSON)")
    parser.add_argument("out_dir", help="the output directory")
    args = parser.parse_args(argv)
    try:
        manifest = write_split(args.features, args.report, args.out_dir)
    except (OSError, ValueError, KeyError) as error:
        print(f"split: {error}", file=sys.stderr)
        return 1
    print(
        f"split: train {manifest['train']['rows']} rows, test {manifest['test']['rows']} rows, "
        f"data_hash {manifest['data_hash'][:12]}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
