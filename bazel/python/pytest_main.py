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
    # The rootdir is the runfiles' workspace root (the working directory), so pytest loads every
    # conftest.py between it and a test file: a test in tests/api/routes/ gets tests/conftest.py.
    args = ["-p", "no:cacheprovider", "-q", "--rootdir=.", *argv]
    # Bazel reads the JUnit XML for per-test results and counts.
    if xml_output := os.environ.get("XML_OUTPUT_FILE"):
        args.append(f"--junitxml={xml_output}")
    # Bazel shards by setting these; pytest has no built-in sharding, so refuse rather than
    # run every test in every shard.
    if os.environ.get("TEST_TOTAL_SHARDS", "1") != "1":
        print("pytest_main: sharding is not supported; remove shard_count", file=sys.stderr)
        return 1
    if os.environ.get("MLOPS_PYTEST_COVERAGE") == "1":
        return _with_coverage(args)
    return int(pytest.main(args))


def _with_coverage(args: list[str]) -> int:
    """Run pytest under coverage.py (``bazel coverage`` is unavailable in this build root).

    The CI driver sets MLOPS_PYTEST_COVERAGE=1; the data file lands in the test's undeclared
    outputs, where the driver collects and combines it. Only this repository's code (the
    runfiles' main tree, which is the working directory) is measured, tests excluded.
    """
    import coverage  # noqa: PLC0415 - only needed, and only a dependency, for coverage runs

    out_dir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or os.getcwd()
    # Runfiles are symlinks into the source tree and coverage.py traces resolved paths, so
    # the source tree (found by resolving the first test file) is measured too.
    sources = [os.getcwd()]
    first = next((a for a in args if a.endswith(".py") and os.path.exists(a)), None)
    if first:
        resolved = os.path.realpath(first)
        rel = os.path.normpath(first)
        if resolved.endswith(os.sep + rel):
            sources.append(resolved[: -len(rel) - 1])
    cov = coverage.Coverage(
        data_file=os.path.join(out_dir, "python.coverage"),
        source=sources,
        omit=["*_test.py", "*/conftest.py", "*/bazel/python/pytest_main.py"],
    )
    cov.start()
    try:
        return int(pytest.main(args))
    finally:
        cov.stop()
        cov.save()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
