"""Tests of sbom_check on predict's real SBOM and image: a doctored SBOM is caught, line by line."""

import copy
import json
import os
from pathlib import Path

import pytest

from tools.security import sbom_check


@pytest.fixture(scope="module")
def image() -> sbom_check.ImageContents:
    return sbom_check.read_image(os.environ["LAYOUT"])


@pytest.fixture(scope="module")
def sbom_text() -> str:
    return Path(os.environ["SBOM"]).read_text()


def test_real_sbom_matches_and_is_valid(image: sbom_check.ImageContents, sbom_text: str) -> None:
    assert sbom_check.schema_errors(sbom_text) is None
    assert sbom_check.compare(json.loads(sbom_text), image) == []
    assert len(image.debs) > 20
    assert len(image.wheels) > 20
    assert ("python3.14-minimal", next(v for n, v in image.debs if n == "python3.14-minimal")) in image.debs


def test_missing_and_extra_components_are_reported(image: sbom_check.ImageContents, sbom_text: str) -> None:
    sbom = json.loads(sbom_text)
    dropped = next(c for c in sbom["components"] if c["purl"].startswith("pkg:pypi/fastapi@"))
    sbom["components"].remove(dropped)
    extra = copy.deepcopy(next(c for c in sbom["components"] if c["purl"].startswith("pkg:deb/")))
    extra.update(name="telnetd", version="0.17", purl="pkg:deb/debian/telnetd@0.17")
    sbom["components"].append(extra)
    problems = sbom_check.compare(sbom, image)
    assert f"missing from the SBOM: wheel fastapi {dropped['version']} (in the image)" in problems
    assert "extra in the SBOM: Debian package telnetd 0.17 (not in the image)" in problems


def test_wrong_hash_version_and_digest_are_reported(image: sbom_check.ImageContents, sbom_text: str) -> None:
    sbom = json.loads(sbom_text)
    app = next(c for c in sbom["components"] if c["type"] == "application")
    app["hashes"][0]["content"] = "0" * 64
    libc = next(c for c in sbom["components"] if c["name"] == "libc6")
    libc["version"] = "1.0"
    sbom["metadata"]["component"]["version"] = "sha256:" + "1" * 64
    problems = "\n".join(sbom_check.compare(sbom, image))
    assert "matches no layer of the image" in problems
    assert "missing from the SBOM: Debian package libc6" in problems
    assert "the SBOM describes sha256:1111" in problems


def test_schema_violation_is_reported(sbom_text: str) -> None:
    sbom = json.loads(sbom_text)
    sbom["components"][0]["type"] = "not-a-type"
    assert sbom_check.schema_errors(json.dumps(sbom)) is not None
