"""Paths and helpers shared by the infrastructure tests."""

import shutil
from pathlib import Path

from infrastructure.terraform_checks import load_module

# Tests run from the runfiles root, where data files keep their repository paths.
K8S = Path("infrastructure/k8s")
ARGOCD = Path("infrastructure/argocd")
TERRAFORM = Path("infrastructure/terraform")
OVERLAYS = ("staging", "production")


def cluster_version() -> str:
    """The Kubernetes version the Terraform cluster runs: manifests are validated against it."""
    return load_module(TERRAFORM).labelled("variable")["kubernetes_version"]["default"]


def copy_k8s(tmp_path: Path) -> Path:
    """A writable copy of infrastructure/k8s with runfiles symlinks resolved."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy, symlinks=False)
    return copy
