"""How a tool started by `bazel run` runs Bazel itself: a clean environment and tools/bazel's startup options."""

import os
from pathlib import Path

# Set by the py_binary launcher of the calling tool (or by `bazel run`); a Bazel-run binary
# started from there must find its own runfiles, not the caller's.
_LAUNCHER_ENV = frozenset(
    {
        "RUNFILES_DIR",
        "RUNFILES_MANIFEST_FILE",
        "JAVA_RUNFILES",
        "PYTHON_RUNFILES",
        "PYTHONPATH",
        "PYTHONSAFEPATH",
        "PYTHONNOUSERSITE",
    }
)


def clean_env() -> dict[str, str]:
    """The environment for child Bazel commands: ours minus the launcher's runfiles variables."""
    return {k: v for k, v in os.environ.items() if k not in _LAUNCHER_ENV}


def default_startup(workspace: Path) -> list[str]:
    """Startup options that match how this repo's tools/bazel starts Bazel inside the build root.

    Inside the build root (MLOPS_IN_BUILDROOT=1) tools/bazel adds the build root's rc file;
    using the same startup options reuses the user's server instead of restarting it.

    Args:
        workspace: the workspace the child Bazel runs in.

    Returns:
        The startup options (possibly none).
    """
    rc = workspace / "bazel" / "buildroot" / "buildroot.bazelrc"
    if os.environ.get("MLOPS_IN_BUILDROOT") == "1" and rc.is_file():
        return [f"--bazelrc={rc}"]
    return []
