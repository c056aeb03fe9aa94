"""The Grafana dashboard of infrastructure/k8s/monitoring: read from its rendered ConfigMap, queries made runnable."""

import json
from pathlib import Path

from infrastructure import kustomize

MONITORING = Path("infrastructure/k8s/monitoring")
# Grafana's sidecar (kube-prometheus-stack) loads ConfigMaps carrying this label.
SIDECAR_LABEL = ("grafana_dashboard", "1")


def dashboard_configmaps(k8s_root: Path) -> list[dict]:
    """The ConfigMaps that ``kustomize build <k8s_root>/monitoring`` renders with the sidecar's label."""
    objects = kustomize.build_copy(k8s_root, "monitoring")
    key, value = SIDECAR_LABEL
    return [
        obj for obj in objects if obj["kind"] == "ConfigMap" and (obj["metadata"].get("labels") or {}).get(key) == value
    ]


def dashboards(k8s_root: Path) -> dict[str, dict]:
    """Every dashboard JSON in those ConfigMaps, by file name."""
    return {name: json.loads(text) for cm in dashboard_configmaps(k8s_root) for name, text in cm["data"].items()}


def panels(dashboard: dict) -> list[dict]:
    """The panels that query data (rows left out, nested row panels included)."""
    found = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def runnable(expr: str, variables: dict[str, str]) -> str:
    """``expr`` with Grafana's template variables replaced (longest names first, so $__rate_interval wins).

    Raises:
        ValueError: when a ``$`` variable is left that ``variables`` does not define.
    """
    for name in sorted(variables, key=len, reverse=True):
        expr = expr.replace(f"${{{name}}}", variables[name]).replace(f"${name}", variables[name])
    if "$" in expr:
        raise ValueError(f"undefined template variable in {expr!r}")
    return expr
