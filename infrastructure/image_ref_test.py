"""Tests of digest-pinned image reference parsing."""

import pytest

from infrastructure.image_ref import DigestRef, parse_digest_ref

DIGEST = "sha256:" + "ab" * 32


def test_registry_with_port_and_path():
    ref = parse_digest_ref(f"127.0.0.1:5000/mlops/predict@{DIGEST}")
    assert ref == DigestRef("127.0.0.1:5000/mlops/predict", DIGEST)
    assert str(ref) == f"127.0.0.1:5000/mlops/predict@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("registry.example.com/predict:latest", "not pinned by digest"),
        ("registry.example.com/predict", "not pinned by digest"),
        ("registry.example.com/predict@sha256:1234", "not a valid digest"),
        (f"Registry.example.com/Predict@{DIGEST}", "not a valid digest"),
    ],
)
def test_anything_but_a_digest_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_digest_ref(text)
