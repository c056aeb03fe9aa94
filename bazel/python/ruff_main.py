"""Runs the ruff binary from the locked ruff wheel: ruff_main.py CONFIG FILE..."""

import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import ruff


def binary_from_wheel(wheel: Path, destination: Path) -> Path:
    """Extract the ruff executable (<name>.data/scripts/ruff) from the locked wheel into `destination`."""
    with zipfile.ZipFile(wheel) as archive:
        member = next((n for n in archive.namelist() if n.endswith(".data/scripts/ruff")), None)
        if member is None:
            raise FileNotFoundError(f"no .data/scripts/ruff in {wheel}")
        target = destination / "ruff"
        target.write_bytes(archive.read(member))
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target


def ruff_binary() -> Path:
    """Find the ruff executable: from the wheel named by RUFF_WHEEL, else next to the Python package.

    The wheel is a declared input (ruff_test passes it), so this also works where only declared
    inputs exist (remote execution); the search beside the package relies on the pip
    repository's undeclared bin/ directory and only works locally.
    """
    wheel = os.environ.get("RUFF_WHEEL")
    if wheel:
        destination = Path(os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp())
        return binary_from_wheel(Path(wheel), destination)
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
