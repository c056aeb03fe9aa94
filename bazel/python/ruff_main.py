"""Runs the locked ruff wheel's linter and format check over files: ruff_main.py CONFIG FILE..."""

import os
import subprocess
import sys
from pathlib import Path

import ruff


def ruff_binary() -> Path:
    """Finds the ruff executable that the ruff wheel ships next to its Python package."""
    package_dir = Path(ruff.__file__).resolve().parent
    # The wheel puts the binary in <name>.data/scripts/, which rules_python leaves beside
    # the package rather than installing it into a bin directory.
    for candidate in package_dir.parent.glob("*.data/scripts/ruff"):
        return candidate
    for candidate in package_dir.parent.parent.glob("**/bin/ruff"):
        return candidate
    raise FileNotFoundError(f"no ruff executable found near {package_dir}")


def main(argv: list[str]) -> int:
    """Lints the given files and checks their formatting; fails if either check does.

    Args:
        argv: the ruff config file, then the Python files.

    Returns:
        0 when both `ruff check` and `ruff format --check` pass, 1 otherwise.
    """
    config, *files = argv
    ruff = str(ruff_binary())
    env = {**os.environ, "NO_COLOR": "1"}
    failed = False
    for check in (["check"], ["format", "--check"]):
        command = [ruff, *check, "--no-cache", "--config", config, *files]
        failed |= subprocess.run(command, env=env, check=False).returncode != 0
    if failed:
        print("ruff: fix the files above with: bazel run //tools:format", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
