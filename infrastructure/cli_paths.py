"""Path handling shared by the bump and rollback command lines under `bazel run`."""

import os
from pathlib import Path

OVERLAYS_IN_REPO = Path("infrastructure/k8s/overlays")


def resolve_user_path(path: str) -> Path:
    """Resolve a path the user typed against their cwd (``$BUILD_WORKING_DIRECTORY`` under bazel run)."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())) / candidate


def default_overlays_dir() -> str | None:
    """The workspace's overlays folder under ``bazel run``; None outside Bazel."""
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    return str(Path(workspace) / OVERLAYS_IN_REPO) if workspace else None


def kustomization_path(overlays_dir: str | None, overlay: str) -> Path:
    """The kustomization.yaml of ``overlay``.

    Raises:
        ValueError: when no overlays folder is known or the overlay does not exist.
    """
    if overlays_dir is None:
        raise ValueError("--overlays-dir is required outside `bazel run`")
    path = resolve_user_path(overlays_dir) / overlay / "kustomization.yaml"
    if not path.is_file():
        raise ValueError(f"no overlay {overlay!r}: {path} does not exist")
    return path
