"""Signed images against the embedded registry: push signs and attests, cosign verifies, bump refuses.

Real cosign, real registry (CNCF distribution on a free loopback port), a throwaway key pair.
An unsigned image, a tag moved to another image and a signature by another key are all refused.
"""

import base64
import io
import json
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from bazel.oci import ocilib, push, registry_lib, signing
from infrastructure import bump
from infrastructure.testing_support import copy_k8s

LAYOUT = Path("bazel/oci/testdata/hello_image")
CRANE = "/usr/bin/crane"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A registry of our own on a free port, always stopped afterwards."""
    monkeypatch.setenv("MLOPS_REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.setenv("MLOPS_REGISTRY_PORT", "0")
    monkeypatch.delenv("REGISTRY", raising=False)
    try:
        yield registry_lib.start()["addr"]
    finally:
        registry_lib.stop()


def _key_pair(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [signing.cosign_binary(), "generate-key-pair"],
        cwd=directory,
        env=dict(os.environ, COSIGN_PASSWORD=""),
        check=True,
        capture_output=True,
    )
    return directory / "cosign.key", directory / "cosign.pub"


def _sbom(path: Path, digest: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "metadata": {"component": {"type": "container", "name": "mlops/predict", "version": digest}},
            }
        )
    )
    return path


def _push(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = push.main(["--layout", str(LAYOUT), "--repository", "mlops/predict", *args])
    return code, out.getvalue().strip(), err.getvalue()


def _unsigned_image(registry: str) -> str:
    """Another image in the same repository (hello plus one file), pushed without a signature."""
    base = f"{registry}/mlops/predict:signed"
    layer = Path(os.environ["TEST_TMPDIR"]) / "extra.tar"
    subprocess.run(["tar", "-C", str(LAYOUT), "-cf", str(layer), "index.json"], check=True)
    return subprocess.run(
        [CRANE, "append", "-b", base, "-f", str(layer), "-t", f"{registry}/mlops/predict:unsigned"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_push_signs_and_attests_and_cosign_verifies(registry, tmp_path, monkeypatch):
    key, public = _key_pair(tmp_path / "keys")
    digest, _, _ = ocilib.load_layout(LAYOUT)
    monkeypatch.setenv("COSIGN_KEY", str(key))
    code, reference, log = _push("--tag", "signed", "--sbom", str(_sbom(tmp_path / "sbom.json", digest)))
    assert code == 0, log
    assert reference == f"{registry}/mlops/predict@{digest}"
    assert f"digest: {digest}" in log
    assert f"signature: {registry}/mlops/predict@sha256:" in log
    assert "SBOM attestation (cyclonedx):" in log

    payload = signing.verify(reference, str(public))
    assert digest in payload
    attestation = signing.verify(reference, str(public), attestation_type="cyclonedx")
    statement = json.loads(base64.b64decode(json.loads(attestation.splitlines()[0])["payload"]))
    assert statement["predicateType"] == signing.CYCLONEDX_PREDICATE
    assert statement["predicate"]["metadata"]["component"]["version"] == digest

    # Unsigned: another image, never signed.
    unsigned = _unsigned_image(registry)
    with pytest.raises(signing.SigningError, match=r"no signatures found|no matching signatures"):
        signing.verify(unsigned, str(public))
    # Tampered: the signed tag moved to the unsigned image.
    subprocess.run([CRANE, "tag", unsigned, "signed"], check=True, capture_output=True)
    with pytest.raises(signing.SigningError):
        signing.verify(f"{registry}/mlops/predict:signed", str(public))
    # Another key's public half does not verify the real signature.
    _, other_public = _key_pair(tmp_path / "other")
    with pytest.raises(signing.SigningError):
        signing.verify(reference, str(other_public))

    # Deploy: bump accepts the signed digest and refuses the unsigned one, writing nothing.
    overlays = copy_k8s(tmp_path / "k8s") / "overlays"
    staging = overlays / "staging" / "kustomization.yaml"
    before = staging.read_text()
    args = ["--overlays-dir", str(overlays), "--public-key", str(public)]
    assert bump.main([f"predict={unsigned}", *args]) == 2
    assert staging.read_text() == before
    assert bump.main([f"predict={reference}", *args]) == 0
    assert digest in staging.read_text()


def test_push_without_key_is_unsigned_unless_required(registry, monkeypatch):
    monkeypatch.delenv("COSIGN_KEY", raising=False)
    code, _, log = _push()
    assert code == 0
    assert "not signed: set COSIGN_KEY" in log
    monkeypatch.setenv("MLOPS_REQUIRE_SIGNATURE", "1")
    code, _, log = _push()
    assert code == 1
    assert "refusing to leave the image unsigned" in log
