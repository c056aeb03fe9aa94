"""Path handling shared by the bump and rollback command lines under `bazel run`."""

import os
from pathlib import Path

from tools.user_paths import user_path

OVERLAYS_IN_REPO = Path("infrastructure/k8s/overlays")


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
    path = user_path(overlays_dir) / overlay / "kustomization.yaml"
    if not path.is_file():
        raise ValueError(f"no overlay {overlay!r}: {path} does not exist")
    return path
