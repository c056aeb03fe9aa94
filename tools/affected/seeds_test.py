"""Which changed files make the answer "everything": files MODULE.bazel names, global files, .bazelrc edits (seeds)."""

from tools.affected.seeds import global_trigger, module_reference_trigger, module_references
from tools.gitdiff import Change

MODULE = """
module(name = "demo")
register_toolchains("//bazel/python:python_toolchain")
pip.parse(
    name = "pypi",
    python_interpreter_target = "//bazel/python:pip_python.py",
    requirements_lock = "//:requirements_lock.txt",
)
single_version_override(module_name = "x", patches = ["@//patches:x.patch", "@@//third_party/fix"])
# @pypi//pandas in a comment, and another repository's label, are not files of this workspace:
http_archive(name = "data", build_file_content = "exports_files(['a'], visibility = ['@rules//:x'])")
"""


def test_main_repository_labels_become_workspace_paths():
    paths = module_references(MODULE)
    assert "bazel/python/pip_python.py" in paths
    assert "requirements_lock.txt" in paths
    assert "patches/x.patch" in paths
    assert "third_party/fix/fix" in paths
    assert not any("pandas" in p or p.startswith("rules") for p in paths)


def test_a_named_file_triggers_but_a_handled_lock_does_not():
    locks = frozenset({"requirements_lock.txt"})
    assert module_reference_trigger([Change("M", "bazel/python/pip_python.py")], MODULE, locks) == (
        "bazel/python/pip_python.py"
    )
    assert module_reference_trigger([Change("M", "requirements_lock.txt")], MODULE, locks) is None
    assert module_reference_trigger([Change("M", "services/api/app.py")], MODULE, locks) is None
    # A rename away from a named file still counts.
    assert module_reference_trigger([Change("R", "patches/y.patch", "patches/x.patch")], MODULE, locks) == (
        "patches/x.patch"
    )


def test_an_inert_bazelrc_or_module_edit_does_not_trigger_but_a_rename_or_another_global_file_does():
    def inert(change: Change) -> bool:
        return True

    assert global_trigger([Change("M", ".bazelrc")], inert) is None
    assert global_trigger([Change("M", "ci/remote.bazelrc")], inert) is None
    assert global_trigger([Change("M", ".bazelrc")]) == ".bazelrc"
    # An import of the old name no longer finds a renamed rc file, whatever its text.
    assert global_trigger([Change("R", "ci/new.bazelrc", "ci/old.bazelrc")], inert) == "ci/new.bazelrc"
    assert global_trigger([Change("M", "MODULE.bazel")], inert) is None
    assert global_trigger([Change("M", "MODULE.bazel")]) == "MODULE.bazel"
    assert global_trigger([Change("R", "MODULE.bazel", "old/MODULE.bazel")], inert) == "MODULE.bazel"
    assert global_trigger([Change("M", ".bazelversion")], inert) == ".bazelversion"
    # The build root's rc file is read like any other; the rest of its recipe always counts.
    assert global_trigger([Change("M", "bazel/buildroot/buildroot.bazelrc")], inert) is None
    assert global_trigger([Change("M", "bazel/buildroot/buildroot.bazelrc")]) == "bazel/buildroot/buildroot.bazelrc"
    assert global_trigger([Change("M", "bazel/buildroot/packages.txt")], inert) == "bazel/buildroot/packages.txt"
