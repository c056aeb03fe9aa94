"""Tests of the images-block rewrite on kustomization texts of several shapes."""

import pytest

from infrastructure.image_ref import parse_digest_ref
from infrastructure.overlay_images import OverlayError, read_images, set_images

OLD = "sha256:" + "0" * 64
NEW = parse_digest_ref("registry.example.com/mlops/api@sha256:" + "e" * 64)

MIDDLE = f"""# top comment
namespace: x
images:
- name: mlops/api   # old style, unindented
  newName: old.example.com/mlops/api
  digest: {OLD}
- name: mlops/predict
  digest: {OLD}

# about resources
resources:
  - ../../base
"""


def test_a_block_in_the_middle_keeps_what_follows():
    text, (change,) = set_images(MIDDLE, {"api": NEW})
    assert change.changed
    assert change.old == f"old.example.com/mlops/api@{OLD}"
    assert text.startswith("# top comment\nnamespace: x\nimages:\n  - name: mlops/api\n")
    assert text.endswith("\n# about resources\nresources:\n  - ../../base\n")
    refs = read_images(text)
    assert refs["api"] == NEW
    assert str(refs["predict"]) == f"mlops/predict@{OLD}"
    # Once pinned, the same update returns the text unchanged.
    again, (same,) = set_images(text, {"api": NEW})
    assert again == text
    assert not same.changed


def test_a_tag_in_the_overlay_is_refused():
    text = "images:\n  - name: mlops/api\n    newTag: latest\n"
    with pytest.raises(OverlayError, match="must pin a digest"):
        read_images(text)


def test_a_missing_entry_is_refused():
    text = f"images:\n  - name: mlops/predict\n    digest: {OLD}\n"
    with pytest.raises(OverlayError, match="no images entry for api"):
        set_images(text, {"api": NEW})


def test_an_entry_with_keys_the_tool_does_not_own_is_left_alone():
    text = f"images:\n  - name: mlops/api\n    digest: {OLD}\n  - name: sidecar\n    newTag: v1\n"
    with pytest.raises(OverlayError, match="changed other keys"):
        set_images(text, {"api": NEW})


def test_no_images_key_is_refused():
    with pytest.raises(OverlayError, match="no `images:` list"):
        read_images("resources:\n  - ../../base\n")
