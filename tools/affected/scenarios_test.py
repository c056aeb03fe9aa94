"""The affected-targets scenarios, each on a throwaway git repository queried by a real nested Bazel.

One repository and one Bazel server (plus the tool's cached base worktree and its server)
serve every scenario: each test resets the repository to the base commit, makes its change
in the working tree and checks the exact answer. The "pip hub" is a set of local
repositories shaped like rules_python's (an alias hub, wheel repos that depend on each
other directly), since a test cannot reach PyPI.
"""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tools.affected import main as cli
from tools.affected.bazel import shutdown_cached_servers
from tools.nested_bazel import offline_bazelrc

_PUBLIC = 'visibility = ["//visibility:public"]'

FILES = {
    "MODULE.bazel": """\
        module(name = "scenario")

        local_repository = use_repo_rule("@bazel_tools//tools/build_defs/repo:local.bzl", "local_repository")

        local_repository(name = "pypi", path = "third_party/pypi")
        local_repository(name = "pypi_numpy", path = "third_party/pypi_numpy")
        local_repository(name = "pypi_pandas", path = "third_party/pypi_pandas")
        local_repository(name = "pypi_requests", path = "third_party/pypi_requests")

        empty_repo = use_repo_rule("//rules:repo.bzl", "empty_repo")

        empty_repo(name = "generated", spec = "//rules:spec.txt")
        """,
    ".bazelignore": "third_party\n",
    "requirements_lock.txt": """\
        numpy==1.0 \\
            --hash=sha256:aaaa
            # via pandas
        pandas==2.0 \\
            --hash=sha256:bbbb
        requests==3.0 \\
            --hash=sha256:cccc
        """,
    **{f"third_party/{repo}/REPO.bazel": "" for repo in ("pypi", "pypi_numpy", "pypi_pandas", "pypi_requests")},
    **{
        f"third_party/pypi/{name}/BUILD.bazel": f'alias(name = "{name}", actual = "@pypi_{name}//:pkg", {_PUBLIC})\n'
        for name in ("numpy", "pandas", "requests")
    },
    "third_party/pypi_numpy/BUILD.bazel": f'filegroup(name = "pkg", srcs = ["numpy.py"], {_PUBLIC})\n',
    "third_party/pypi_numpy/numpy.py": "",
    # Like rules_python's wheel repos: pandas depends on numpy's wheel directly, not on the hub.
    "third_party/pypi_pandas/BUILD.bazel": (
        f'filegroup(name = "pkg", srcs = ["pandas.py", "@pypi_numpy//:pkg"], {_PUBLIC})\n'
    ),
    "third_party/pypi_pandas/pandas.py": "",
    "third_party/pypi_requests/BUILD.bazel": f'filegroup(name = "pkg", srcs = ["requests.py"], {_PUBLIC})\n',
    "third_party/pypi_requests/requests.py": "",
    "rules/BUILD.bazel": "",
    "rules/macros.bzl": """\
        load(":common.bzl", "SUFFIX")

        def stamped(name):
            native.genrule(name = name, outs = [name + SUFFIX], cmd = "echo v1 > $@")
        """,
    "rules/common.bzl": 'SUFFIX = ".txt"\n',
    # A repository rule MODULE.bazel uses: editing it can change external repositories. Like
    # rules_python's wheel installer, it reads a file that MODULE.bazel names, and only part of
    # that file (the first line) shapes what it writes.
    "rules/repo.bzl": """\
        def _impl(rctx):
            rctx.file("REPO.bazel", "")
            rctx.file("value.txt", rctx.read(rctx.attr.spec).splitlines()[0] + "\\n")
            rctx.file("BUILD.bazel", 'filegroup(name = "empty", srcs = ["value.txt"], visibility = ["//visibility:public"])')

        empty_repo = repository_rule(implementation = _impl, attrs = {"spec": attr.label()})
        """,
    "rules/spec.txt": "v1\nwhat the repository rule reads\n",
    "rules/counter.bzl": """\
        def _impl(ctx):
            out = ctx.actions.declare_file(ctx.label.name + ".count")
            ctx.actions.write(out, str(len(ctx.files.srcs)))
            return [DefaultInfo(files = depset([out]))]

        counter = rule(implementation = _impl, attrs = {"srcs": attr.label_list(allow_files = True)})
        """,
    "tools/BUILD.bazel": 'exports_files(["tool.sh"])\n',
    "tools/tool.sh": '#!/bin/sh\ncat "$@"\n',
    "lib/BUILD.bazel": """\
        # The library.
        filegroup(
            name = "lib",
            srcs = glob(["*.txt"]),
            visibility = ["//visibility:public"],
        )

        genrule(
            name = "gen",
            srcs = [":lib"],
            outs = ["gen.out"],
            cmd = "$(location //tools:tool.sh) $(SRCS) > $@",
            tools = ["//tools:tool.sh"],
            visibility = ["//visibility:public"],
        )
        """,
    "lib/a.txt": "a\n",
    "lib/b.txt": "b\n",
    "app/BUILD.bazel": """\
        load("//rules:counter.bzl", "counter")
        load("//rules:macros.bzl", "stamped")

        sh_test(
            name = "app_test",
            srcs = ["app_test.sh"],
            data = ["//lib:gen", "testdata.json"],
        )

        sh_test(
            name = "manual_test",
            srcs = ["app_test.sh"],
            data = ["//lib:gen"],
            tags = ["manual"],
        )

        filegroup(name = "uses_numpy", srcs = ["@pypi//numpy"])

        filegroup(name = "uses_pandas", srcs = ["@pypi//pandas"])

        filegroup(name = "uses_requests", srcs = ["@pypi//requests"])

        filegroup(name = "uses_generated", srcs = ["@generated//:empty"])

        stamped(name = "stamp")

        counter(name = "counted", srcs = ["testdata.json"])

        counter(name = "counted_more", srcs = [":counted"])
        """,
    "app/app_test.sh": "#!/bin/sh\nexit 0\n",
    "app/testdata.json": "{}\n",
    "other/BUILD.bazel": """\
        filegroup(name = "other", srcs = glob(["**/*.txt"]))

        sh_test(name = "other_test", srcs = ["other_test.sh"], data = [":other"])
        """,
    "other/other_test.sh": "#!/bin/sh\nexit 0\n",
    "other/sub/x.txt": "x\n",
    "docs/guide.md": "# Guide\n",
}

ALL_RULES = {
    "//app:app_test", "//app:manual_test", "//app:uses_numpy", "//app:uses_pandas", "//app:uses_requests",
    "//app:uses_generated",
    "//app:stamp", "//app:counted", "//app:counted_more", "//lib:lib", "//lib:gen", "//other:other",
    "//other:other_test",
}  # fmt: skip
LIB_CHAIN = {"//lib:lib", "//lib:gen", "//app:app_test", "//app:manual_test"}


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


class Scenario:
    """The throwaway repository and how to run the tool on it."""

    def __init__(self, root: Path):
        self.repo = root / "repo"
        self.cache = root / "cache"
        self.startup = [f"--output_user_root={root / 'bazel'}", "--max_idle_secs=900"]
        self.bazelrc = offline_bazelrc(short_lived_server=True)

    def create(self):
        for path, text in {**FILES, ".bazelrc": self.bazelrc}.items():
            self.write(path, textwrap.dedent(text))
        _git(self.repo, "init", "-q", "-b", "main")
        _git(self.repo, "add", "-A")
        _git(self.repo, "commit", "-q", "-m", "base")
        _git(self.repo, "tag", "base")

    def write(self, path, text):
        file = self.repo / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)

    def edit(self, path, old, new):
        file = self.repo / path
        text = file.read_text()
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, new))

    def reset(self):
        _git(self.repo, "checkout", "-q", "--force", "main")
        _git(self.repo, "reset", "-q", "--hard", "base")
        _git(self.repo, "clean", "-q", "-ffdx")

    def run(self, capfd, *args, base="base"):
        argv = [
            "--workspace",
            str(self.repo),
            "--cache-dir",
            str(self.cache),
            "--bazel",
            "bazel",
            "--lock",
            "requirements_lock.txt=pypi",
            *[f"--startup-flag={f}" for f in self.startup],
        ]
        if base:
            argv += ["--base", base]
        assert cli.main([*argv, *args]) == 0
        return capfd.readouterr()

    def labels(self, capfd, *args, **kwargs):
        out = self.run(capfd, *args, **kwargs).out
        return set(out.splitlines())

    def json(self, capfd, *args, **kwargs):
        return json.loads(self.run(capfd, "--format", "json", *args, **kwargs).out)

    def shutdown(self):
        subprocess.run(["bazel", *self.startup, "shutdown"], cwd=self.repo, capture_output=True, check=False)
        shutdown_cached_servers(self.repo, self.cache)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    for key, value in {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }.items():
        os.environ[key] = value
    s = Scenario(tmp_path_factory.mktemp("affected"))
    s.create()
    try:
        yield s
    finally:
        s.shutdown()


@pytest.fixture
def repo(scenario):
    scenario.reset()
    return scenario


def test_01_source_edit_selects_owners_and_reverse_deps(repo, capfd):
    repo.edit("lib/a.txt", "a", "A")
    assert repo.labels(capfd) == LIB_CHAIN


def test_02_comment_and_formatting_only_build_edit_selects_nothing(repo, capfd):
    repo.edit("lib/BUILD.bazel", "# The library.", "# The library, reformatted.\n\n# More words.")
    repo.edit("lib/BUILD.bazel", 'name = "gen",', 'name="gen" ,  # the generator')
    doc = repo.json(capfd)
    assert doc["exact"] is True
    assert doc["targets"] == []


def test_03_attribute_edit_selects_that_target_not_its_siblings(repo, capfd):
    repo.edit("lib/BUILD.bazel", "$(SRCS) > $@", "$(SRCS) | sort > $@")
    doc = repo.json(capfd)
    assert {t["label"] for t in doc["targets"]} == LIB_CHAIN - {"//lib:lib"}
    gen = next(t for t in doc["targets"] if t["label"] == "//lib:gen")
    assert "cmd" in gen["why"]["changed"]
    app = next(t for t in doc["targets"] if t["label"] == "//app:app_test")
    assert app["why"]["path"] == ["//app:app_test", "//lib:gen"]


def test_04a_macro_edit_selects_the_targets_whose_expansion_changed(repo, capfd):
    repo.edit("rules/macros.bzl", "echo v1", "echo v2")
    assert repo.labels(capfd) == {"//app:stamp"}


def test_04b_rule_implementation_edit_selects_that_rules_targets_and_users(repo, capfd):
    repo.edit("rules/counter.bzl", "str(len(ctx.files.srcs))", 'str(len(ctx.files.srcs)) + "\\n"')
    assert repo.labels(capfd) == {"//app:counted", "//app:counted_more"}


def test_04d_edit_of_a_bzl_loaded_through_another_bzl(repo, capfd):
    repo.edit("rules/common.bzl", '".txt"', '".text"')
    doc = repo.json(capfd)
    assert [t["label"] for t in doc["targets"]] == ["//app:stamp"]
    assert "outs" in doc["targets"][0]["why"]["changed"]


def test_04e_edit_of_a_bzl_that_module_bazel_uses_is_everything(repo, capfd):
    repo.edit("rules/repo.bzl", 'rctx.file("REPO.bazel", "")', 'rctx.file("REPO.bazel", "# edited")')
    doc = repo.json(capfd)
    assert doc["exact"] is False
    assert "rules/repo.bzl" in doc["fallback_reason"]


def test_04f_file_a_repository_rule_reads_selects_the_users_of_what_came_out_different(repo, capfd):
    # Bazel fetches @generated again at the head; its files are the base's: nothing to re-run.
    repo.edit("rules/spec.txt", "what the repository rule reads", "what it reads, reworded")
    doc = repo.json(capfd)
    assert doc["exact"] is True
    assert doc["targets"] == []
    repo.edit("rules/spec.txt", "v1", "v2")
    doc = repo.json(capfd)
    assert doc["exact"] is True
    assert [t["label"] for t in doc["targets"]] == ["//app:uses_generated"]
    assert "@@_main~_repo_rules~generated: value.txt differs" in doc["targets"][0]["why"]["changed"]


def test_06a_module_edit_of_comments_selects_nothing_and_of_a_repository_its_users(repo, capfd):
    repo.edit("MODULE.bazel", 'module(name = "scenario")', '# The scenario.\nmodule(\n    name = "scenario"\n)')
    doc = repo.json(capfd)
    assert (doc["exact"], doc["targets"]) == (True, [])
    # The same files at another path: the repository comes out the same.
    for name in ("REPO.bazel", "BUILD.bazel", "requests.py"):
        repo.write(f"third_party/requests_copy/{name}", (repo.repo / "third_party/pypi_requests" / name).read_text())
    repo.edit("MODULE.bazel", "third_party/pypi_requests", "third_party/requests_copy")
    doc = repo.json(capfd)
    assert (doc["exact"], doc["targets"]) == (True, [])
    repo.write("third_party/requests_copy/requests.py", "VERSION = 4\n")
    doc = repo.json(capfd)
    assert [t["label"] for t in doc["targets"]] == ["//app:uses_requests"]
    assert doc["targets"][0]["why"]["changed"].endswith("(MODULE.bazel's repository definitions changed)")


def test_04c_bzl_comment_edit_selects_nothing(repo, capfd):
    repo.edit("rules/macros.bzl", "def stamped(name):", "# A stamp.\ndef stamped(name):")
    assert repo.labels(capfd) == set()


def test_05_lock_bump_selects_users_of_that_package_through_other_wheels(repo, capfd):
    repo.edit("requirements_lock.txt", "numpy==1.0 \\\n    --hash=sha256:aaaa", "numpy==1.1 \\\n    --hash=sha256:dddd")
    doc = repo.json(capfd)
    assert {t["label"] for t in doc["targets"]} == {"//app:uses_numpy", "//app:uses_pandas"}
    pandas = next(t for t in doc["targets"] if t["label"] == "//app:uses_pandas")
    assert pandas["why"]["changed"] == "requirements_lock.txt: numpy 1.0 -> 1.1"
    assert pandas["why"]["path"][-1].endswith("pypi_numpy//:pkg")


@pytest.mark.parametrize(
    ("path", "added"),
    [
        (".bazelrc", "build --define=mode=fast\n"),
        (".bazelrc", "test --test_env=DEBUG=1\n"),
        ("MODULE.bazel", 'register_toolchains("//tools:all")\n'),
        (".bazelversion", "# changed\n"),
    ],
)
def test_06_module_bazelrc_bazelversion_give_an_explicit_everything(repo, capfd, path, added):
    file = repo.repo / path
    file.write_text((file.read_text() if file.exists() else "") + "\n" + added)
    doc = repo.json(capfd)
    assert doc["exact"] is False
    assert doc["everything"] is True
    assert path in doc["fallback_reason"]
    assert {t["label"] for t in doc["targets"]} == ALL_RULES
    assert repo.labels(capfd, "--kind", "test") == {"//app:app_test", "//other:other_test"}


def test_06b_bazelrc_comments_and_output_neutral_options_select_nothing(repo, capfd):
    # Bazel re-runs nothing for these: no action's inputs or command line change.
    rc = repo.repo / ".bazelrc"
    rc.write_text(
        "# how this repository builds\n"
        + rc.read_text()
        + "common --lockfile_mode=off\nbuild:ci --keep_going --jobs 4\ntest --test_output=errors  # say why\n"
    )
    doc = repo.json(capfd)
    assert doc["exact"] is True
    assert doc["targets"] == []


def test_07_deleted_glob_matched_file_selects_the_globbing_rule(repo, capfd):
    (repo.repo / "lib/b.txt").unlink()
    doc = repo.json(capfd)
    assert {t["label"] for t in doc["targets"]} == LIB_CHAIN
    lib = next(t for t in doc["targets"] if t["label"] == "//lib:lib")
    assert "lib/b.txt" in lib["why"]["changed"] or "srcs" in lib["why"]["changed"]


def test_08_build_file_added_moves_the_package_boundary(repo, capfd):
    repo.write("other/sub/BUILD.bazel", 'filegroup(name = "sub", srcs = ["x.txt"])\n')
    assert repo.labels(capfd) == {"//other:other", "//other:other_test", "//other/sub:sub"}


def test_08b_build_file_removed_gives_files_back_to_the_parent(repo, capfd):
    repo.write("other/sub/BUILD.bazel", 'filegroup(name = "sub", srcs = ["x.txt"])\n')
    _git(repo.repo, "add", "-A")
    _git(repo.repo, "commit", "-q", "-m", "sub package")
    (repo.repo / "other/sub/BUILD.bazel").unlink()
    doc = repo.json(capfd, base="HEAD")
    assert {t["label"] for t in doc["targets"]} == {"//other:other", "//other:other_test"}
    assert doc["removed"] == ["//other/sub:sub"]


def test_09_file_moved_between_packages_selects_consumers_on_both_sides(repo, capfd):
    _git(repo.repo, "mv", "lib/a.txt", "other/a.txt")
    assert repo.labels(capfd) == LIB_CHAIN | {"//other:other", "//other:other_test"}


def test_10_changed_tool_selects_everything_built_with_it(repo, capfd):
    repo.edit("tools/tool.sh", "cat", "exec cat")
    assert repo.labels(capfd) == {"//lib:gen", "//app:app_test", "//app:manual_test"}


def test_11_test_data_change_selects_that_test(repo, capfd):
    repo.edit("app/testdata.json", "{}", '{"k": 1}')
    assert repo.labels(capfd) == {"//app:app_test", "//app:counted", "//app:counted_more"}


def test_12_manual_targets_are_listed_but_not_in_the_default_test_set(repo, capfd):
    repo.edit("lib/a.txt", "a", "A")
    assert repo.labels(capfd, "--kind", "test") == {"//app:app_test"}
    doc = repo.json(capfd, "--kind", "test")
    manual = next(t for t in doc["targets"] if t["label"] == "//app:manual_test")
    assert manual["manual"] is True
    assert manual["selected"] is False
    assert manual["kind"] == "sh_test"
    assert doc["selected"] == ["//app:app_test"]


def test_13_change_outside_any_package_selects_nothing_without_crashing(repo, capfd):
    repo.edit("docs/guide.md", "Guide", "Guide, revised")
    repo.write(".github/workflows/x.yml", "on: push\n")
    doc = repo.json(capfd)
    assert doc["exact"] is True
    assert doc["targets"] == []


def test_14_new_target_is_affected(repo, capfd):
    repo.write(
        "app/BUILD.bazel",
        (repo.repo / "app/BUILD.bazel").read_text() + '\nsh_test(name = "new_test", srcs = ["app_test.sh"])\n',
    )
    doc = repo.json(capfd)
    assert [(t["label"], t["why"]["changed"]) for t in doc["targets"]] == [
        ("//app:new_test", "new target //app:new_test")
    ]


def test_15a_unknown_base_is_an_explicit_everything(repo, capfd):
    out = repo.run(capfd, "--format", "json", base="no-such-revision")
    doc = json.loads(out.out)
    assert doc["exact"] is False
    assert "no-such-revision" in doc["fallback_reason"]
    assert {t["label"] for t in doc["targets"]} == ALL_RULES
    assert "EVERYTHING" in out.err


def test_15b_head_revision_ignores_the_dirty_working_tree(repo, capfd):
    repo.edit("app/testdata.json", "{}", '{"k": 2}')
    _git(repo.repo, "commit", "-q", "-am", "data")
    repo.edit("lib/a.txt", "a", "dirty")
    assert repo.labels(capfd, "--head", "HEAD") == {"//app:app_test", "//app:counted", "//app:counted_more"}
    # Without --head the dirty working tree is the head.
    assert repo.labels(capfd) == LIB_CHAIN | {"//app:app_test", "//app:counted", "//app:counted_more"}


def test_stdout_carries_labels_only_and_logs_go_to_stderr(repo, capfd):
    repo.edit("lib/a.txt", "a", "A")
    out = repo.run(capfd, "--verbose")
    assert sorted(out.out.splitlines()) == sorted(LIB_CHAIN)
    assert all(line.startswith("//") for line in out.out.splitlines())
    assert "affected:" in out.err
