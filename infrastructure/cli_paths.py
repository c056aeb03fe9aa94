"""Command-line plumbing shared by the bump and rollback commands: overlay options and paths under `bazel run`."""

import argparse
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


def add_overlay_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --overlay and --overlays-dir, the options every command that edits an overlay takes."""
    parser.add_argument("--overlay", default="staging", help="overlay to change (default: staging)")
    parser.add_argument(
        "--overlays-dir",
        default=default_overlays_dir(),
        help="folder of the overlays (default under bazel run: infrastructure/k8s/overlays of the workspace)",
    )
