"""Tests of changed-file listing, against real throwaway git repositories."""

import subprocess

import pytest

from tools.gitdiff import Change, GitError, changed_files, parse_name_status


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "b.py").write_text("b = 2\n" * 20)
    (tmp_path / "gone.py").write_text("x = 0\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_modified_deleted_renamed_and_untracked(repo):
    (repo / "a.py").write_text("a = 10\n")
    (repo / "gone.py").unlink()
    (repo / "pkg").mkdir()
    _git(repo, "mv", "b.py", "pkg/b.py")
    (repo / "new.py").write_text("n = 1\n")
    changes = sorted(changed_files(repo, "HEAD"), key=lambda c: c.path)
    assert changes == [
        Change("M", "a.py"),
        Change("D", "gone.py"),
        Change("A", "new.py"),
        Change("R", "pkg/b.py", "b.py"),
    ]


def test_between_two_commits_ignores_the_working_tree(repo):
    (repo / "a.py").write_text("a = 3\n")
    _git(repo, "commit", "-q", "-am", "change a")
    (repo / "b.py").write_text("dirty\n")
    assert changed_files(repo, "HEAD~1", "HEAD") == [Change("M", "a.py")]


def test_unknown_revision_is_an_error_not_an_empty_list(repo):
    with pytest.raises(GitError, match="no-such-rev"):
        changed_files(repo, "no-such-rev")


def test_paths_with_spaces_and_newlines_survive():
    raw = "M\0dir with space/f.py\0R100\0old\nname.py\0new.py\0"
    assert parse_name_status(raw) == [Change("M", "dir with space/f.py"), Change("R", "new.py", "old\nname.py")]


def test_malformed_output_is_rejected():
    with pytest.raises(ValueError, match="unexpected git status"):
        parse_name_status("X\0f.py\0")
    with pytest.raises(ValueError, match="truncated"):
        parse_name_status("R100\0only-old.py\0")


def test_unmerged_status_line_is_a_git_error_not_a_value_error():
    with pytest.raises(GitError, match=r"a\.txt is unmerged"):
        parse_name_status("U\0a.txt\0")
