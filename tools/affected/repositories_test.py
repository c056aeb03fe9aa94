"""repositories: which external targets a refetch changed, by their files' contents, not where they live."""

import os
from pathlib import Path

import pytest

from tools.affected.query_output import Target
from tools.affected.repositories import FetchedRevision, changed_targets, file_digests
from tools.affected.result import Fallback


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_canonical_repository_of_labels():
    fetched = FetchedRevision(Path("/nowhere"), Path("/nowhere"), {}, {"pypi": "rules_python~~pip~pypi", "": ""})
    assert fetched.repository("@@rules_python~~pip~pypi_pandas//:pkg") == "rules_python~~pip~pypi_pandas"
    assert fetched.repository("@pypi//pandas:pandas") == "rules_python~~pip~pypi"
    assert fetched.canonical("@pypi//pandas:pandas") == "@@rules_python~~pip~pypi//pandas:pandas"
    assert fetched.repository("@zlib//:zlib") == "zlib"
    assert fetched.repository("//services/api:lib") is None
    assert fetched.repository("@@//services/api:lib") is None


def test_file_digests_follow_content_not_location(tmp_path):
    one = write_tree(tmp_path / "one", {"BUILD.bazel": "x", "site-packages/a.py": "A"})
    two = write_tree(tmp_path / "two", {"BUILD.bazel": "x", "site-packages/a.py": "A"})
    assert file_digests(one) == file_digests(two)
    (two / "site-packages/a.py").write_text("B")
    assert file_digests(one)["site-packages/a.py"] != file_digests(two)["site-packages/a.py"]


def test_a_file_symlink_counts_as_its_content_a_directory_symlink_as_its_target(tmp_path):
    # Like local_config_cc's links into its own output base: other paths, same files.
    for side in ("base", "head"):
        write_tree(tmp_path / side / "tools", {"config.bzl": "same"})
        (tmp_path / side / "repo").mkdir()
        os.symlink(tmp_path / side / "tools/config.bzl", tmp_path / side / "repo/config.bzl")
        os.symlink("/usr/lib/jvm/jdk/bin", tmp_path / side / "repo/bin")
    assert file_digests(tmp_path / "base/repo") == file_digests(tmp_path / "head/repo")
    os.unlink(tmp_path / "head/repo/bin")
    os.symlink("/usr/lib/jvm/other/bin", tmp_path / "head/repo/bin")
    assert file_digests(tmp_path / "base/repo")["bin"] != file_digests(tmp_path / "head/repo")["bin"]


def test_a_directory_symlink_into_the_workspace_counts_as_its_files(tmp_path):
    # A local repository: its directory links the checkout's, which differ per revision.
    for side, text in (("base", "3.0"), ("head", "3.0"), ("next", "3.1")):
        write_tree(tmp_path / side / "checkout/third_party/requests", {"requests.py": text})
        (tmp_path / side / "external").mkdir()
        os.symlink(tmp_path / side / "checkout/third_party/requests", tmp_path / side / "external/requests")

    def digests(side: str) -> dict[str, str]:
        return file_digests(tmp_path / side / "external/requests", tmp_path / side / "checkout")

    assert digests("base") == digests("head") == {"requests.py": digests("base")["requests.py"]}
    assert digests("head") != digests("next")
    # Outside the workspace, the link's text is what counts.
    assert file_digests(tmp_path / "base/external/requests") != file_digests(tmp_path / "head/external/requests")


def _revision(root: Path, repos: dict[str, dict[str, str]], graph: dict[str, tuple], mapping=None):
    """A fetched revision: repositories' files, and the graph {label: (inputs, attributes)} (no attributes: a file)."""
    for name, files in repos.items():
        write_tree(root / "external" / name, files)
    targets = {
        label: Target(label, "py_library", inputs=spec[0], attributes=spec[1]) if spec else Target(label, "source file")
        for label, spec in graph.items()
    }
    return FetchedRevision(root, root / "external", targets, mapping or {})


WHEEL = {"BUILD.bazel": "py_library(...)", "site-packages/a.py": "A", "site-packages/b.py": "B", "RECORD": "1"}
OTHER = {"BUILD.bazel": "py_library(...)", "o.py": "O"}
GRAPH = {
    "@@wheel//:pkg": (("@@wheel//:site-packages/a.py", "@@wheel//:site-packages/b.py"), {"srcs": "a b"}),
    "@@wheel//:site-packages/a.py": (),
    "@@wheel//:site-packages/b.py": (),
    "@@other//:pkg": (("@@other//:o.py",), {"srcs": "o"}),
    "@@other//:o.py": (),
    "//app:app": (("@@wheel//:pkg", "@@other//:pkg"), {}),
}


def test_only_the_files_whose_bytes_differ_and_rules_whose_definitions_differ(tmp_path):
    base = _revision(tmp_path / "base", {"wheel": WHEEL, "other": OTHER}, GRAPH)
    # The refetch wrote another RECORD (no target names it), another b.py and another BUILD
    # file whose rules are the same once globs are expanded.
    head_wheel = {**WHEEL, "RECORD": "2", "site-packages/b.py": "B2", "BUILD.bazel": "py_library(exclude)"}
    head = _revision(tmp_path / "head", {"wheel": head_wheel, "other": OTHER}, GRAPH)
    assert set(changed_targets(base, head)) == {"@@wheel//:site-packages/b.py"}

    # A file dropped from the repository: the rule's definition (its expanded glob) differs.
    fewer = {k: v for k, v in WHEEL.items() if k != "site-packages/b.py"}
    graph = {**GRAPH, "@@wheel//:pkg": (("@@wheel//:site-packages/a.py",), {"srcs": "a"})}
    del graph["@@wheel//:site-packages/b.py"]
    head = _revision(tmp_path / "fewer", {"wheel": fewer, "other": OTHER}, graph)
    changed = changed_targets(base, head)
    assert set(changed) == {"@@wheel//:pkg"}
    assert "definition" in changed["@@wheel//:pkg"]


def test_a_new_repository_changes_all_its_targets_a_differing_bzl_everything(tmp_path):
    base = _revision(tmp_path / "base", {"wheel": WHEEL, "other": OTHER}, GRAPH)
    # A stale repository of another revision in the base's output base is never read.
    write_tree(tmp_path / "base/external/newer", {"BUILD.bazel": "x", "n.py": "N"})
    head = _revision(
        tmp_path / "head",
        {"wheel": WHEEL, "other": OTHER, "newer": {"BUILD.bazel": "x", "n.py": "N"}},
        {**GRAPH, "@@newer//:n.py": (), "//app:app": (("@@wheel//:pkg", "@@other//:pkg", "@@newer//:n.py"), {})},
    )
    changed = changed_targets(base, head)
    assert set(changed) == {"@@newer//:n.py", "//app:app"}
    assert "new at the head" in changed["@@newer//:n.py"]
    head = _revision(tmp_path / "bzl", {"wheel": {**WHEEL, "defs.bzl": "X = 2"}, "other": OTHER}, GRAPH)
    with pytest.raises(Fallback, match=r"defs\.bzl"):
        changed_targets(
            _revision(tmp_path / "bzl-base", {"wheel": {**WHEEL, "defs.bzl": "X = 1"}, "other": OTHER}, GRAPH), head
        )


def test_a_main_repository_rule_whose_inputs_map_to_another_repository(tmp_path):
    # use_repo(pip, pypi = "other_hub"): the same apparent label, another repository.
    graph = {**GRAPH, "//app:app": (("@pypi//:pkg",), {})}
    base = _revision(tmp_path / "base", {"wheel": WHEEL, "other": WHEEL}, graph, {"pypi": "wheel"})
    head = _revision(tmp_path / "head", {"wheel": WHEEL, "other": WHEEL}, graph, {"pypi": "other"})
    assert set(changed_targets(base, head)) == {"//app:app"}


def test_a_repository_missing_on_disk_at_one_side_counts_as_new(tmp_path):
    base = _revision(tmp_path / "base", {"wheel": WHEEL}, GRAPH)
    head = _revision(tmp_path / "head", {"wheel": WHEEL, "other": OTHER}, GRAPH)
    assert set(changed_targets(base, head)) == {"@@other//:pkg", "@@other//:o.py"}
