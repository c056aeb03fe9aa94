"""Fixes what the lint tests flag, across the whole workspace: bazel run //tools:format.

Runs `ruff check --fix` and `ruff format` on every tracked Python file, and buildifier
(format and lint fixes) on every tracked BUILD, .bzl and MODULE.bazel file, including the
offline registry's stubs that Bazel itself ignores. What cannot be fixed automatically is
printed and makes the exit status non-zero.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bazel.python.ruff_main import ruff_binary

STARLARK_NAMES = ("BUILD", "BUILD.bazel", "MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel")


def tracked_files(workspace: Path) -> list[str]:
    """Files git tracks in the workspace, plus new ones not yet added (ignored files excluded)."""
    listing = subprocess.run(
        ["git", "-C", str(workspace), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listing.stdout.splitlines() if (workspace / name).is_file()]


def is_starlark(name: str) -> bool:
    """Whether buildifier should format this file."""
    base = os.path.basename(name)
    return base in STARLARK_NAMES or base.endswith(".bzl")


def main(argv: list[str] | None = None) -> int:
    """Formats and lint-fixes the workspace in place; returns non-zero if problems remain."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildifier", required=True, help="path of the buildifier binary (set by the BUILD target)")
    args = parser.parse_args(argv)
    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or Path.cwd())
    files = tracked_files(workspace)
    python = [name for name in files if name.endswith(".py")]
    starlark = [name for name in files if is_starlark(name)]
    # `bazel run` starts in the runfiles tree, where the BUILD target's rootpath resolves.
    buildifier = str(Path(args.buildifier).resolve())
    ruff_config = str(workspace / "ruff.toml")
    ruff = str(ruff_binary())
    steps = [
        (
            f"ruff lint fixes, {len(python)} Python files",
            [ruff, "check", "--fix", "--no-cache", "--config", ruff_config],
        ),
        (f"ruff format, {len(python)} Python files", [ruff, "format", "--no-cache", "--config", ruff_config]),
        (f"buildifier fixes, {len(starlark)} Starlark files", [buildifier, "-mode=fix", "-lint=fix"]),
        ("buildifier lint check (what it cannot fix)", [buildifier, "-mode=check", "-lint=warn"]),
    ]
    failed = False
    for title, command in steps:
        print(f"format: {title}", file=sys.stderr)
        files = starlark if command[0] == buildifier else python
        failed |= subprocess.run([*command, *files], cwd=workspace, check=False).returncode != 0
    if failed:
        print("format: the problems above need a hand edit", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
