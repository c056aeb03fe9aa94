"""Strict validation of rendered Kubernetes objects against the bundled Kubernetes schemas."""

from collections.abc import Iterable

import kubernetes_validate

# Custom resources whose schemas kubernetes-validate does not bundle; their own structural
# tests (monitoring_test, argocd_test) check them instead.
CUSTOM_KINDS = frozenset(
    {
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "AppProject"),
    }
)


def describe(obj: dict) -> str:
    """``Kind/name`` of an object, for messages."""
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"


def validate(objects: Iterable[dict], kubernetes_version: str) -> tuple[list[str], list[dict]]:
    """Validate each object strictly (unknown fields are errors).

    Args:
        objects: rendered objects (``kustomize.build`` output).
        kubernetes_version: the cluster's version, e.g. ``"1.34"``.

    Returns:
        The problems, one readable line each (empty when all is valid), and the custom
        resources that were left to their own checks.
    """
    problems: list[str] = []
    custom: list[dict] = []
    for obj in objects:
        if (obj.get("apiVersion"), obj.get("kind")) in CUSTOM_KINDS:
            custom.append(obj)
            continue
        try:
            kubernetes_validate.validate(obj, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path) or "(top level)"
            problems.append(f"{describe(obj)} ({obj.get('apiVersion')}): {error.message} at {where}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{describe(obj)}: {error.message}")
    return problems, custom
