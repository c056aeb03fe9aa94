"""Runs the ruff binary from the locked ruff wheel: ruff_main.py CONFIG FILE..."""

import os
import subprocess
import sys
from pathlib import Path

import ruff


def ruff_binary() -> Path:
    """Find the ruff executable that the ruff wheel ships next to its Python package."""
    package_dir = Path(ruff.__file__).resolve().parent
    # The wheel puts the binary in <name>.data/scripts/, which rules_python leaves beside
    # the package rather than installing it into a bin directory.
    for candidate in package_dir.parent.glob("*.data/scripts/ruff"):
        return candidate
    for candidate in package_dir.parent.parent.glob("**/bin/ruff"):
        return candidate
    raise FileNotFoundError(f"no ruff executable found near {package_dir}")


def main(argv: list[str]) -> int:
    """Lint the given files with the given config; ruff's exit code is the test's result."""
    config, *files = argv
    command = [str(ruff_binary()), "check", "--no-cache", "--config", config, *files]
    return subprocess.run(command, env={**os.environ, "NO_COLOR": "1"}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
