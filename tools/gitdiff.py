"""The files changed between two git revisions, with renames and deletions kept apart; the one git runner."""

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Change:
    """One changed path.

    Attributes:
        status: "A" added, "M" modified, "D" deleted, "R" renamed, "T" type changed.
        path: the path at the head revision (for deletions: the deleted path).
        old_path: the path at the base revision, for renames; otherwise None.
    """

    status: str
    path: str
    old_path: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the change touches: the head path and, for a rename, the base path."""
        return (self.path, self.old_path) if self.old_path else (self.path,)


class GitError(RuntimeError):
    """git failed; the message carries git's own error."""


def parse_name_status(output: str) -> list[Change]:
    """Parse ``git diff --name-status -z`` output.

    Args:
        output: the raw NUL-separated output.

    Raises:
        GitError: on an unmerged path (a merge or rebase stopped on a conflict).
        ValueError: on output that does not follow git's format.
    """
    fields = output.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    changes: list[Change] = []
    i = 0
    while i < len(fields):
        status = fields[i]
        kind = status[:1]
        if kind in {"R", "C"}:
            if i + 2 >= len(fields):
                raise ValueError(f"truncated rename entry at field {i}: {status!r}")
            old, new = fields[i + 1], fields[i + 2]
            changes.append(Change("R" if kind == "R" else "A", new, old if kind == "R" else None))
            i += 3
        elif kind in {"A", "M", "D", "T"}:
            if i + 1 >= len(fields):
                raise ValueError(f"truncated entry at field {i}: {status!r}")
            changes.append(Change(kind, fields[i + 1]))
            i += 2
        elif kind == "U":
            path = fields[i + 1] if i + 1 < len(fields) else "?"
            raise GitError(f"{path} is unmerged (a merge or rebase stopped on a conflict): resolve it first")
        else:
            raise ValueError(f"unexpected git status {status!r} at field {i}")
    return changes


def changed_files(repo: Path, base: str, head: str | None = None) -> list[Change]:
    """List what changed from ``base`` to ``head`` (the working tree, untracked files included, when None).

    Args:
        repo: a directory inside the git repository.
        base: the base revision (commit, branch or tag).
        head: the head revision, or None for the working tree.

    Raises:
        GitError: when a revision does not exist, a path is unmerged or git fails.
    """
    revs = [base] if head is None else [base, head]
    diff = ["diff", "--name-status", "-z", "--find-renames", "--no-ext-diff", *revs, "--"]
    if head is not None:
        return parse_name_status(git(repo, *diff))
    # A stopped merge or rebase: diffing the working tree against a commit reports the
    # conflicted files as plain modifications (conflict markers and all), so ask the index.
    # The three reads are independent and two of them walk the working tree: run them side by side.
    unmerged, output, untracked = git_each(
        repo, ["ls-files", "--unmerged", "-z"], diff, ["ls-files", "--others", "--exclude-standard", "-z"]
    )
    if unmerged:
        path = unmerged.split("\0", 1)[0].split("\t", 1)[-1]  # an entry is "<mode> <object> <stage>\t<path>"
        raise GitError(f"{path} is unmerged (a merge or rebase stopped on a conflict): resolve it first")
    changes = parse_name_status(output)
    changes += [Change("A", p) for p in untracked.split("\0") if p]
    return changes


def git(repo: Path, *args: str) -> str:
    """Run ``git -C repo ARGS`` and return its stdout.

    Raises:
        GitError: on a non-zero exit, with git's own message.
    """
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def git_each(repo: Path, *commands: list[str]) -> list[str]:
    """Run several independent git commands at once; their stdouts, in order.

    Raises:
        GitError: the first failing command's (in the order given).
    """
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        running = [pool.submit(git, repo, *command) for command in commands]
        return [done.result() for done in running]
