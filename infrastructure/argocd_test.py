"""Structural checks of the Argo CD Applications: one per overlay, synced automatically."""

import pytest
import yaml

from infrastructure import kustomize
from infrastructure.testing_support import ARGOCD, K8S, OVERLAYS


@pytest.fixture(scope="module")
def objects():
    """infrastructure/argocd, rendered."""
    return kustomize.build_copy(ARGOCD, ".")


def _applications(objects):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == "Application"}


def test_one_application_per_overlay(objects):
    paths = sorted(app["spec"]["source"]["path"] for app in _applications(objects).values())
    assert paths == sorted(f"infrastructure/k8s/overlays/{overlay}" for overlay in OVERLAYS)
    on_disk = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
    assert on_disk == sorted(OVERLAYS), "every overlay on disk needs an Application"


def test_sync_is_automated_with_prune_and_self_heal(objects):
    for name, app in _applications(objects).items():
        automated = app["spec"]["syncPolicy"]["automated"]
        assert automated == {"prune": True, "selfHeal": True}, name


def test_destination_is_the_namespace_the_overlay_renders_into(objects):
    for name, app in _applications(objects).items():
        overlay = app["spec"]["source"]["path"].removeprefix("infrastructure/k8s/")
        kustomization = yaml.safe_load((K8S / overlay / "kustomization.yaml").read_text())
        assert app["spec"]["destination"]["namespace"] == kustomization["namespace"], name


def test_the_project_allows_exactly_what_the_applications_use(objects):
    (project,) = [o for o in objects if o["kind"] == "AppProject"]
    allowed = {(d["server"], d["namespace"]) for d in project["spec"]["destinations"]}
    used = set()
    for app in _applications(objects).values():
        assert app["spec"]["project"] == project["metadata"]["name"]
        assert app["spec"]["source"]["repoURL"] in project["spec"]["sourceRepos"]
        used.add((app["spec"]["destination"]["server"], app["spec"]["destination"]["namespace"]))
    assert used == allowed
    assert {o["metadata"]["namespace"] for o in objects} == {"argocd"}
