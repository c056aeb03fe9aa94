"""Tests of rollback against a real throwaway git repository holding a copy of the overlays."""

import json
import subprocess

import pytest

from infrastructure import bump, rollback
from infrastructure.overlay_images import read_images
from infrastructure.testing_support import copy_k8s

REPO = "127.0.0.1:5000/mlops/api"
DIGESTS = {name: "sha256:" + char * 64 for name, char in (("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"))}


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git repository whose staging overlay pinned api to a, then b, then c (one commit each)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "repo"
    copy_k8s(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "ci@example.com")
    _git(root, "config", "user.name", "ci")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "overlays")
    for name in ("a", "b", "c"):
        _bump(root, name)
        _git(root, "commit", "-q", "-am", f"bump api to {name}")
    return root


def _bump(root, name):
    assert bump.main([f"api={REPO}@{DIGESTS[name]}", "--overlays-dir", str(root / "k8s" / "overlays")]) == 0


def _rollback(root, capsys, *args):
    code = rollback.main(["api", *args, "--overlays-dir", str(root / "k8s" / "overlays")])
    out, err = capsys.readouterr()
    return code, out, err


def _pinned(root, service="api"):
    text = (root / "k8s" / "overlays" / "staging" / "kustomization.yaml").read_text()
    return read_images(text)[service].digest


def test_rollback_restores_the_previous_digest(repo, capsys):
    predict_before = _pinned(repo, "predict")
    capsys.readouterr()
    code, out, _ = _rollback(repo, capsys)
    assert code == 0
    assert json.loads(out)["to"] == f"{REPO}@{DIGESTS['b']}"
    assert _pinned(repo) == DIGESTS["b"]
    assert _pinned(repo, "predict") == predict_before
    assert _git(repo, "status", "--porcelain").strip() == "M k8s/overlays/staging/kustomization.yaml"


def test_rollback_of_an_uncommitted_bump_returns_to_head(repo, capsys):
    _bump(repo, "d")
    capsys.readouterr()
    assert _rollback(repo, capsys)[0] == 0
    assert _pinned(repo) == DIGESTS["c"]
    assert _git(repo, "status", "--porcelain") == ""


def test_rollback_to_a_named_digest_from_history(repo, capsys):
    capsys.readouterr()
    assert _rollback(repo, capsys, "--to", DIGESTS["a"])[0] == 0
    assert _pinned(repo) == DIGESTS["a"]


def test_rollback_refuses_a_digest_never_deployed(repo, capsys):
    capsys.readouterr()
    code, out, err = _rollback(repo, capsys, "--to", DIGESTS["d"])
    assert code == 2
    assert "never pinned" in err
    assert out == ""
    assert _pinned(repo) == DIGESTS["c"]


def test_rollback_without_history_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    root = tmp_path / "fresh"
    copy_k8s(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=ci@example.com", "-c", "user.name=ci", "add", ".")
    _git(root, "-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-q", "-m", "overlays")
    code, _, err = _rollback(root, capsys)
    assert code == 2
    assert "no earlier digest" in err


def test_rollback_refuses_an_unknown_service(repo, capsys):
    capsys.readouterr()
    code = rollback.main(["frontend", "--overlays-dir", str(repo / "k8s" / "overlays")])
    assert code == 2
    assert "unknown service" in capsys.readouterr().err
