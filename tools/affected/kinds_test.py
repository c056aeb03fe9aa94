"""Tests of the rule-to-CI-kind mapping."""

from tools.affected.kinds import categories, is_manual, matches


def test_tests_and_build_targets():
    assert categories("//a:x_test", "py_test", []) == {"test"}
    assert categories("//a:suite", "test_suite", []) == {"test"}
    assert categories("//a:lib", "py_library", []) == {"build"}


def test_images_and_pushes_by_tag_rule_class_or_name():
    assert categories("//svc:image", "_oci_image_layout", []) == {"build", "image"}
    assert categories("//svc:img", "genrule", ["oci_image"]) == {"build", "image"}
    assert categories("//svc:push", "sh_binary", []) == {"build", "push"}
    assert categories("//svc:publish", "genrule", ["oci_push", "oci_image"]) == {"build", "push"}
    # The image-test macro's py_test is a test, not an image.
    assert categories("//svc:image_test", "oci_image_test", []) == {"test"}


def test_manual_and_kind_selection():
    assert is_manual(["manual", "integration"])
    assert not is_manual(["integration"])
    assert matches("all", {"build"})
    assert matches("test", {"test"})
    assert not matches("image", {"build"})
