"""The CI driver end to end on a throwaway repository: real nested Bazel tests, builds and runs.

The image, push and bump targets are stand-ins (a genrule tagged oci_image, sh_binaries that
record their arguments) with the same shape as bazel/oci's and //infrastructure:bump's.
"""

import os
import subprocess

import pytest

from tools.affected.bazel import shutdown_cached_servers
from tools.ci import ci
from tools.nested_bazel import offline_bazelrc

FILES = {
    "MODULE.bazel": 'module(name = "ci_scenario")\n',
    "a/BUILD.bazel": 'sh_test(name = "a_test", srcs = ["a_test.sh"], data = ["value.txt"])\n'
    'exports_files(["value.txt"])\n',
    "a/a_test.sh": "#!/bin/sh\ngrep -q ok a/value.txt\n",
    "a/value.txt": "ok\n",
    "b/BUILD.bazel": 'sh_test(name = "b_test", srcs = ["b_test.sh"])\n',
    "b/b_test.sh": "#!/bin/sh\nexit 0\n",
    "img/BUILD.bazel": 'genrule(name = "image", srcs = ["//a:value.txt"], outs = ["image.tar"], cmd = "cp $< $@",'
    ' tags = ["oci_image"])\n'
    'sh_binary(name = "push", srcs = ["push.sh"], data = [":image"])\n',
    "img/push.sh": '#!/bin/sh\necho "push $*" >> "$CI_MARKER"\necho pushing >&2\necho 127.0.0.1:5000/img@sha256:0123\n',
    "infrastructure/BUILD.bazel": 'sh_binary(name = "bump", srcs = ["bump.sh"])\n',
    "infrastructure/bump.sh": '#!/bin/sh\necho "bump $*" >> "$CI_MARKER"\n',
}


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("ci")
    repo = root / "repo"
    files = dict(FILES)
    files[".bazelrc"] = offline_bazelrc(short_lived_server=True)
    for path, text in files.items():
        file = repo / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        if path.endswith(".sh"):
            file.chmod(0o755)
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        os.environ[key] = "t@example.com"
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    startup = [f"--output_user_root={root / 'bazel'}", "--max_idle_secs=900"]
    os.environ["CI_MARKER"] = str(root / "marker.txt")
    yield repo, root, startup
    subprocess.run(["bazel", *startup, "shutdown"], cwd=repo, capture_output=True, check=False)
    shutdown_cached_servers(repo, root / "cache")


def _run(repo, root, startup, capsys, *extra):
    marker = root / "marker.txt"
    marker.unlink(missing_ok=True)
    argv = ["--workspace", str(repo), "--base", "main", "--bazel", "bazel", "--cache-dir", str(root / "cache"),
            *[f"--startup-flag={f}" for f in startup], "--summary", str(root / "summary.md"), *extra]  # fmt: skip
    code = ci.main(argv)
    out = capsys.readouterr().out
    return code, out, marker.read_text() if marker.exists() else ""


def test_a_change_tests_builds_pushes_and_deploys_only_what_it_affects(repo, capsys):
    repo, root, startup = repo
    (repo / "a" / "value.txt").write_text("ok, changed\n")
    code, summary, marker = _run(repo, root, startup, capsys, "--push", "--deploy")
    assert code == 0, summary
    assert "# CI: passed" in summary
    assert "| test | passed |" in summary
    assert "1 test target(s)" in summary
    assert "`//a:a_test`" in summary
    assert "//b:b_test" not in summary
    assert "`//img:image`" in summary
    assert marker.splitlines() == ["push ", "bump img=127.0.0.1:5000/img@sha256:0123"]
    assert (root / "summary.md").read_text() == summary
    assert "## Python coverage" in summary


def test_a_failing_test_fails_the_run_and_nothing_is_pushed(repo, capsys):
    repo, root, startup = repo
    (repo / "a" / "value.txt").write_text("bad\n")
    code, summary, marker = _run(repo, root, startup, capsys, "--push", "--deploy")
    assert code == 1
    assert "# CI: failed: test" in summary
    assert "| test | **FAILED** |" in summary
    assert "not run: an earlier step failed" in summary
    assert marker == ""


def test_an_unrelated_change_runs_nothing(repo, capsys):
    repo, root, startup = repo
    (repo / "a" / "value.txt").write_text("ok\n")
    (repo / "README.md").write_text("docs only\n")
    code, summary, marker = _run(repo, root, startup, capsys, "--push")
    assert code == 0
    assert "no affected tests" in summary
    assert "no affected push targets" in summary
    assert marker == ""
