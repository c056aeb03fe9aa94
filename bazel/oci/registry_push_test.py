"""Pushes a built image to a private embedded registry, pulls it back by digest, and compares."""

import io
import os
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bazel.oci import layer_report, ocilib, push, registry_lib

LAYOUT = Path("bazel/oci/testdata/hello_image")


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A registry of our own on a free port, always stopped afterwards."""
    monkeypatch.setenv("MLOPS_REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.setenv("MLOPS_REGISTRY_PORT", "0")
    monkeypatch.delenv("REGISTRY", raising=False)
    try:
        yield registry_lib.start()
    finally:
        registry_lib.stop()
    assert registry_lib.status() is None


def test_push_then_pull_by_digest_gives_the_same_image(registry, tmp_path):
    digest, manifest, _ = ocilib.load_layout(LAYOUT)
    out = io.StringIO()
    with redirect_stdout(out):
        assert push.main(["--layout", str(LAYOUT), "--repository", "mlops/hello", "--tag", "roundtrip"]) == 0
    reference = out.getvalue().strip()
    assert reference == f"{registry['addr']}/mlops/hello@{digest}"  # stdout: only the reference

    crane = "/usr/bin/crane"
    remote = subprocess.run(
        [crane, "digest", f"{registry['addr']}/mlops/hello:roundtrip"], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert remote == digest
    pulled = tmp_path / "pulled"
    subprocess.run([crane, "pull", "--format", "oci", reference, str(pulled)], check=True)
    pulled_digest, pulled_manifest, _ = ocilib.load_layout(pulled)
    assert pulled_digest == digest
    assert [layer["digest"] for layer in pulled_manifest["layers"]] == [layer["digest"] for layer in manifest["layers"]]

    # Everything is in the registry now: a second push would send only the manifest.
    report = io.StringIO()
    with redirect_stdout(report):
        layer_report.main([str(LAYOUT.resolve()), "--repository", f"{registry['addr']}/mlops/hello"])
    manifest_size = ocilib.blob_path(LAYOUT, digest).stat().st_size
    assert f"sends {manifest_size} bytes" in report.getvalue(), report.getvalue()


def test_embedded_registry_status_and_stop(registry):
    assert registry_lib.status()["addr"] == registry["addr"]
    assert registry_lib.answers(registry["addr"])
    assert os.path.exists(Path(registry["dir"]) / "registry.pid")
