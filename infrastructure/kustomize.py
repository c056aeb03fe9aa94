"""Rendering kustomizations with the kustomize binary of the build root."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

# The build root installs Debian's kustomize here; tests run inside the build root.
DEFAULT_KUSTOMIZE = "/usr/bin/kustomize"


class KustomizeError(RuntimeError):
    """kustomize is missing or refused to build a kustomization."""


def find_kustomize(candidate: str = DEFAULT_KUSTOMIZE) -> str:
    """Return the path of a runnable kustomize.

    Args:
        candidate: where to look first; then PATH is searched.

    Raises:
        KustomizeError: when no kustomize is found, naming what to install.
    """
    if Path(candidate).is_file():
        return candidate
    found = shutil.which("kustomize")
    if found:
        return found
    raise KustomizeError(
        f"kustomize not found at {candidate} or on PATH; these tests run inside the build root "
        "(./tools/bazel test ...), whose Debian package `kustomize` provides it"
    )


def copy_tree(source: Path, destination: Path) -> Path:
    """Copy a manifest tree with symlinks resolved (kustomize refuses links leaving its root)."""
    shutil.copytree(source, destination, symlinks=False)
    return destination


def build(kustomization_dir: Path, kustomize: str | None = None) -> list[dict]:
    """Run ``kustomize build`` and return the rendered objects.

    Args:
        kustomization_dir: folder holding kustomization.yaml; Bazel runfiles should be copied
            first with ``copy_tree`` (they are symlinks).
        kustomize: the binary; found with ``find_kustomize`` when omitted.

    Raises:
        KustomizeError: when kustomize fails; its stderr is in the message.
    """
    binary = kustomize or find_kustomize()
    result = subprocess.run([binary, "build", str(kustomization_dir)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KustomizeError(f"kustomize build {kustomization_dir} failed:\n{result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def build_copy(k8s_root: Path, relative: str) -> list[dict]:
    """Copy ``k8s_root`` to a temporary folder and build ``relative`` inside the copy."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = copy_tree(k8s_root, Path(tmp) / "k8s")
        return build(copy / relative)
