"""Runs pytest on the test files given as arguments, the way Bazel's py_test expects."""

import os
import sys

import pytest


def main(argv: list[str]) -> int:
    """Run pytest over ``argv`` and report results to Bazel.

    Args:
        argv: test file paths (runfiles-relative) followed by any extra pytest flags.

    Returns:
        pytest's exit code; "no tests collected" counts as a failure so an empty test
        target cannot pass silently.
    """
    args = ["-p", "no:cacheprovider", "-q", *argv]
    # Bazel reads the JUnit XML for per-test results and counts.
    if xml_output := os.environ.get("XML_OUTPUT_FILE"):
        args.append(f"--junitxml={xml_output}")
    # Bazel shards by setting these; pytest has no built-in sharding, so refuse rather than
    # run every test in every shard.
    if os.environ.get("TEST_TOTAL_SHARDS", "1") != "1":
        print("pytest_main: sharding is not supported; remove shard_count", file=sys.stderr)
        return 1
    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
