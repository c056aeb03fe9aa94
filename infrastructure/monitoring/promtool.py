"""Runs Prometheus' promtool (Debian package `prometheus`, installed in the build root) on rule files."""

import shutil
import subprocess
from pathlib import Path

DEFAULT_PROMTOOL = "/usr/bin/promtool"


class PromtoolError(RuntimeError):
    """promtool is missing."""


def find_promtool(candidate: str = DEFAULT_PROMTOOL) -> str:
    """Return the path of promtool.

    Args:
        candidate: where to look first; then PATH is searched.

    Raises:
        PromtoolError: when it is not installed, naming the package that provides it.
    """
    if Path(candidate).is_file():
        return candidate
    found = shutil.which("promtool")
    if found:
        return found
    raise PromtoolError(
        f"promtool not found at {candidate} or on PATH; run the tests inside the build root "
        "(./tools/bazel test ...), whose Debian package `prometheus` provides it"
    )


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``promtool ARGS`` and return the finished process (never raises on its exit status)."""
    return subprocess.run([find_promtool(), *args], capture_output=True, text=True, check=False, cwd=cwd, timeout=300)
