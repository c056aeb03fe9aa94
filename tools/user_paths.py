"""Where a path typed by the user points: under `bazel run`, relative to the directory they ran it from."""

import os
from pathlib import Path


def working_directory() -> Path:
    """The user's working directory.

    `bazel run` starts a binary in its runfiles tree and passes the directory the user was in
    as ``$BUILD_WORKING_DIRECTORY``; anywhere else (tests, direct runs) it is the process's cwd.
    """
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY") or os.getcwd())


def user_path(path: str | os.PathLike) -> Path:
    """``path`` as the user meant it: absolute paths unchanged, relative ones against `working_directory()`."""
    return working_directory() / path
