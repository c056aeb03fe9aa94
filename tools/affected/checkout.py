"""A cache of git checkouts, one per slot ("base", "head"), each with its own Bazel output base, reused across runs.

Files are written with ``git read-tree --reset -u`` and a private index, so the user's
repository gets no worktree entry, and a reused checkout only rewrites the files that
differ. Bazel runs there with its own output base, so a server started there finds its
packages already loaded on the next run.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path


class CheckoutError(RuntimeError):
    """A revision could not be checked out; the message carries git's error."""


def cache_dir_for(repo_root: Path, cache_root: Path | None) -> Path:
    """The per-repository cache directory (cached checkouts, their output bases, cached results)."""
    root = cache_root or Path(os.environ.get("MLOPS_AFFECTED_CACHE") or Path.home() / ".cache" / "mlops-affected")
    return root / hashlib.sha256(str(repo_root).encode()).hexdigest()[:16]


def output_bases(repo_root: Path, cache_root: Path | None) -> list[tuple[Path, Path]]:
    """(checkout directory, output base) of every cached checkout of a repository that has an output base."""
    cache = cache_dir_for(repo_root, cache_root)
    found = []
    for output_base in sorted(cache.glob("*-output-base")):
        workdir = cache / output_base.name.removesuffix("-output-base")
        if workdir.is_dir():
            found.append((workdir, output_base))
    return found


class CachedCheckout:
    """A checkout of some revision in the cache, locked while in use."""

    def __init__(self, repo_root: Path, cache: Path, slot: str):
        """Prepare (not yet check out) the checkout named ``slot`` ("base" or "head")."""
        self.repo_root = repo_root
        self.dir = cache / slot
        self.output_base = cache / f"{slot}-output-base"
        self.index = cache / f"{slot}.index"
        self.marker = cache / f"{slot}.commit"
        cache.mkdir(parents=True, exist_ok=True)
        self._lock = open(cache / f"{slot}.lock", "w")  # noqa: SIM115 - held until close()

    def checkout(self, commit: str) -> Path:
        """Make the checkout hold ``commit``'s files; returns its directory.

        Raises:
            CheckoutError: when git cannot write the files.
        """
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        # Only this class writes there: when it already holds ``commit``, nothing to do.
        if self.dir.is_dir() and self.index.is_file() and self.marker.is_file() and self.marker.read_text() == commit:
            return self.dir
        git_dir = subprocess.run(
            ["git", "-C", str(self.repo_root), "rev-parse", "--absolute-git-dir"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not self.index.is_file():
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.marker.unlink(missing_ok=True)
        result = subprocess.run(
            ["git", f"--git-dir={git_dir}", f"--work-tree={self.dir}", "read-tree", "--reset", "-u", commit],
            env={**os.environ, "GIT_INDEX_FILE": str(self.index)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            self.index.unlink(missing_ok=True)
            raise CheckoutError(f"could not check out {commit} into {self.dir}: {result.stderr.strip()}")
        self.marker.write_text(commit)
        return self.dir

    def close(self) -> None:
        """Release the lock."""
        self._lock.close()
