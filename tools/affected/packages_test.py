"""Packages and .bzl loads read from files, as the affected tool sees a revision."""

from tools.affected.packages import LoadGraph, Packages


def _write(root, files):
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def test_load_graph_reads_a_checkout_that_is_not_a_git_repository(tmp_path):
    # The head of `--head COMMIT` is a cached checkout written by git read-tree: no .git there.
    files = {
        "MODULE.bazel": 'module(name = "m")\n',
        "rules/BUILD.bazel": "",
        "rules/common.bzl": 'SUFFIX = ".txt"\n',
        "rules/macros.bzl": 'load(":common.bzl", "SUFFIX")\n',
        "app/BUILD.bazel": 'load("//rules:macros.bzl", "stamped")\n',
        "other/BUILD.bazel": "# nothing loaded\n",
    }
    _write(tmp_path, files)
    packages = Packages(list(files), [])
    graph = LoadGraph.scan(tmp_path, packages, files["MODULE.bazel"])
    assert graph.packages_loading(["rules/common.bzl"]) == {"app"}
    assert graph.reached_from_module(["rules/common.bzl"]) is None


def test_owner_and_label_skip_ignored_directories():
    packages = Packages(["BUILD.bazel", "a/BUILD.bazel", "third_party/x/BUILD.bazel"], ["third_party"])
    assert packages.label("a/b/c.txt") == "//a:b/c.txt"
    assert packages.label("docs/x.md") == "//:docs/x.md"
    assert packages.owner("third_party/x/y.py") is None


def test_bazel_reads_build_bazel_when_a_package_has_both(tmp_path):
    # Bazel ignores BUILD next to BUILD.bazel, so only BUILD.bazel's loads count.
    files = {
        "rules/BUILD.bazel": "",
        "rules/macros.bzl": "",
        "app/BUILD": 'load("//rules:macros.bzl", "stamped")\n',
        "app/BUILD.bazel": "# loads nothing\n",
    }
    _write(tmp_path, files)
    packages = Packages(list(files), [])
    assert packages.build_files == {"rules": "rules/BUILD.bazel", "app": "app/BUILD.bazel"}
    assert LoadGraph.scan(tmp_path, packages, "").packages_loading(["rules/macros.bzl"]) == set()
