"""Git revisions for the affected tool: the repository root, the base and head commits, a file at a revision."""

import subprocess
from pathlib import Path

from tools.gitdiff import GitError, git

DEFAULT_BRANCHES = ("origin/main", "main", "origin/master", "master")


def toplevel(workspace: Path) -> Path:
    """The root of the git repository holding ``workspace``.

    Raises:
        GitError: when it is not inside a git repository.
    """
    return Path(git(workspace, "rev-parse", "--show-toplevel").strip())


def resolve_base(repo: Path, base: str | None) -> tuple[str, str]:
    """The base revision's name and commit.

    Args:
        repo: the repository root.
        base: a revision, or None for the merge-base of HEAD with the main branch.

    Raises:
        GitError: when it does not exist, with a hint for shallow clones.
    """
    if base is None:
        for branch in DEFAULT_BRANCHES:
            probe = subprocess.run(
                ["git", "-C", str(repo), "merge-base", "HEAD", branch], capture_output=True, text=True, check=False
            )
            if probe.returncode == 0:
                return f"merge-base(HEAD, {branch})", probe.stdout.strip()
        raise GitError(f"no --base given and no merge-base with any of {', '.join(DEFAULT_BRANCHES)}")
    try:
        return base, git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").strip()
    except GitError:
        shallow = git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"
        hint = (
            " (this is a shallow clone: fetch the full history, e.g. actions/checkout fetch-depth: 0)"
            if shallow
            else ""
        )
        raise GitError(f"base revision {base!r} does not exist in this repository{hint}") from None


def resolve_head(repo: Path, head: str | None) -> str | None:
    """The head revision's commit, or None for the working tree.

    Raises:
        GitError: when it does not exist.
    """
    return git(repo, "rev-parse", "--verify", f"{head}^{{commit}}").strip() if head else None


def file_at(repo: Path, commit: str | None, path: str) -> str:
    """A file's text at a commit (None: the working tree); "" when it does not exist there."""
    if commit is None:
        file = repo / path
        return file.read_text(errors="replace") if file.is_file() else ""
    result = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{path}"], capture_output=True, check=False)
    return result.stdout.decode(errors="replace") if result.returncode == 0 else ""


def files_at(repo: Path, commit: str | None) -> list[str]:
    """Every file path at a commit; for the working tree (None), every file git tracks.

    Untracked files are left out: finding them walks the whole tree, which the diff against
    the base has done already (it lists them as added).
    """
    if commit is None:
        out = git(repo, "ls-files", "-z", "--cached")
    else:
        out = git(repo, "ls-tree", "-r", "-z", "--name-only", commit)
    return [f for f in out.split("\0") if f]
