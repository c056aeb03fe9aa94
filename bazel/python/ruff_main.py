"""Runs the locked ruff wheel's linter and format check over files: ruff_main.py CONFIG FILE..."""

import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import ruff


def binary_from_wheel(wheel: Path, destination: Path) -> Path:
    """Extracts the ruff executable (<name>.data/scripts/ruff) from the locked wheel into `destination`."""
    with zipfile.ZipFile(wheel) as archive:
        member = next((n for n in archive.namelist() if n.endswith(".data/scripts/ruff")), None)
        if member is None:
            raise FileNotFoundError(f"no .data/scripts/ruff in {wheel}")
        target = destination / "ruff"
        target.write_bytes(archive.read(member))
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target


def ruff_binary() -> Path:
    """Finds the ruff executable: from the wheel named by RUFF_WHEEL, else next to the Python package.

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
