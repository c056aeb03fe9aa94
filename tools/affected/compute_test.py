"""compute() on throwaway git repositories where git alone decides the answer (no Bazel needed)."""

import subprocess

import pytest

from tools.affected.api import Config, compute


def _git(repo, *args, check=True):
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=check,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("base\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo


def _config(repo, tmp_path, **kwargs):
    # No Bazel on purpose: listing "everything" then fails too, which the answer must say.
    return Config(workspace=repo, bazel=str(tmp_path / "no-bazel-here"), cache_root=tmp_path / "cache", **kwargs)


def test_unmerged_status_line_gives_everything(repo, tmp_path):
    _git(repo, "checkout", "-q", "-b", "topic")
    (repo / "a.txt").write_text("topic\n")
    _git(repo, "commit", "-q", "-am", "topic")
    _git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("main\n")
    _git(repo, "commit", "-q", "-am", "main")
    merge = _git(repo, "merge", "-q", "topic", check=False)
    assert "CONFLICT" in merge.stdout, merge

    result = compute(_config(repo, tmp_path, base="HEAD"))

    assert result.exact is False
    assert "a.txt is unmerged" in result.reason
    assert result.all_targets_unknown
    assert result.labels("test") == ["//..."]


def test_unknown_base_gives_everything_with_the_revision_named(repo, tmp_path):
    result = compute(_config(repo, tmp_path, base="no-such-revision"))
    assert result.exact is False
    assert "no-such-revision" in result.reason


def test_a_bazelrc_change_gives_everything_without_querying_changes(repo, tmp_path):
    (repo / ".bazelrc").write_text("build --define=mode=fast\n")
    result = compute(_config(repo, tmp_path, base="main"))
    assert result.exact is False
    assert ".bazelrc changed" in result.reason
    assert [c.path for c in result.changes] == [".bazelrc"]
