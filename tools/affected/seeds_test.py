"""Which changed files MODULE.bazel names: those make the answer "everything" (seeds.module_reference_trigger)."""

from tools.affected.seeds import module_reference_trigger, module_references
from tools.gitdiff import Change

MODULE = """
module(name = "demo")
register_toolchains("//bazel/python:python_toolchain")
pip.parse(
    name = "pypi",
    python_interpreter_target = "//bazel/python:pip_python.sh",
    requirements_lock = "//:requirements_lock.txt",
)
single_version_override(module_name = "x", patches = ["@//patches:x.patch", "@@//third_party/fix"])
# @pypi//pandas in a comment, and another repository's label, are not files of this workspace:
http_archive(name = "data", build_file_content = "exports_files(['a'], visibility = ['@rules//:x'])")
"""


def test_main_repository_labels_become_workspace_paths():
    paths = module_references(MODULE)
    assert "bazel/python/pip_python.sh" in paths
    assert "requirements_lock.txt" in paths
    assert "patches/x.patch" in paths
    assert "third_party/fix/fix" in paths
    assert not any("pandas" in p or p.startswith("rules") for p in paths)


def test_a_named_file_triggers_but_a_handled_lock_does_not():
    locks = frozenset({"requirements_lock.txt"})
    assert module_reference_trigger([Change("M", "bazel/python/pip_python.sh")], MODULE, locks) == (
        "bazel/python/pip_python.sh"
    )
    assert module_reference_trigger([Change("M", "requirements_lock.txt")], MODULE, locks) is None
    assert module_reference_trigger([Change("M", "services/api/app.py")], MODULE, locks) is None
    # A rename away from a named file still counts.
    assert module_reference_trigger([Change("R", "patches/y.patch", "patches/x.patch")], MODULE, locks) == (
        "patches/x.patch"
    )
