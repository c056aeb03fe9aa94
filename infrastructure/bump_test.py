"""Tests of the digest bump, run on a copy of the real overlays (rendered with kustomize afterwards)."""

import json

import pytest

from infrastructure import bump, kustomize
from infrastructure.testing_support import copy_k8s

REGISTRY = "127.0.0.1:5000"
API = f"{REGISTRY}/mlops/api@sha256:" + "a1" * 32
PREDICT = f"{REGISTRY}/mlops/predict@sha256:" + "b2" * 32


@pytest.fixture
def k8s(tmp_path):
    """A writable copy of infrastructure/k8s."""
    return copy_k8s(tmp_path)


def _run(capsys, k8s, *args):
    code = bump.main([*args, "--overlays-dir", str(k8s / "overlays")])
    out, err = capsys.readouterr()
    return code, out, err


def _images(objects):
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]["image"]
        for o in objects
        if o["kind"] == "Deployment"
    }


def test_bump_pins_the_digests_and_a_second_run_changes_nothing(capsys, k8s):
    staging = k8s / "overlays" / "staging" / "kustomization.yaml"
    production_before = (k8s / "overlays" / "production" / "kustomization.yaml").read_bytes()
    before = staging.read_text()

    code, out, _ = _run(capsys, k8s, f"api={API}", f"predict={PREDICT}")
    assert code == 0
    assert set(json.loads(out)["changed"]) == {"api", "predict"}
    after_first = staging.read_bytes()
    assert after_first != before.encode()
    # Comments and the other keys survive: only the images lines differ.
    changed = [line for line in after_first.decode().splitlines() if line not in before.splitlines()]
    assert all(line.strip().startswith(("newName:", "digest:")) for line in changed), changed

    code, out, err = _run(capsys, k8s, f"api={API}", f"predict={PREDICT}")
    assert code == 0
    assert json.loads(out)["changed"] == {}
    assert "nothing to do" in err
    assert staging.read_bytes() == after_first
    assert (k8s / "overlays" / "production" / "kustomization.yaml").read_bytes() == production_before

    assert _images(kustomize.build(k8s / "overlays" / "staging")) == {"api": API, "predict": PREDICT}


def test_bump_one_service_in_production(capsys, k8s):
    code, out, _ = _run(capsys, k8s, f"predict={PREDICT}", "--overlay", "production")
    assert code == 0
    summary = json.loads(out)
    assert summary["overlay"] == "production"
    assert list(summary["changed"]) == ["predict"]
    images = _images(kustomize.build(k8s / "overlays" / "production"))
    assert images["predict"] == PREDICT
    assert images["api"] != API


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (f"api={REGISTRY}/mlops/api:latest", "not pinned by digest"),
        (f"api={REGISTRY}/mlops/api@sha256:abc", "not a valid digest"),
        (f"api={PREDICT}", "not an image of mlops/api"),
        (f"frontend={API}", "unknown service 'frontend'"),
        (API, "expected <service>="),
    ],
)
def test_bump_refuses_anything_but_a_service_digest(capsys, k8s, argument, message):
    staging = k8s / "overlays" / "staging" / "kustomization.yaml"
    before = staging.read_bytes()
    code, out, err = _run(capsys, k8s, argument)
    assert code == 2
    assert message in err
    assert out == "", "stdout carries data only"
    assert staging.read_bytes() == before


def test_an_unknown_overlay_is_refused(capsys, k8s):
    code, _, err = _run(capsys, k8s, f"api={API}", "--overlay", "qa")
    assert code == 2
    assert "no overlay 'qa'" in err


def test_relative_overlays_dir_is_resolved_against_the_users_cwd(capsys, k8s, monkeypatch):
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(k8s))
    assert bump.main([f"api={API}", "--overlays-dir", "overlays"]) == 0
    assert API.split("@")[1] in (k8s / "overlays" / "staging" / "kustomization.yaml").read_text()
    capsys.readouterr()
