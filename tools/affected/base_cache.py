"""A persistent cache of base-revision query results (the whole graph, package definitions), keyed per commit.

A base revision is a commit: its files never change, so what Bazel answers about it changes
only with Bazel itself and the options it runs with. Each entry's key is the commit plus a
salt made of exactly those (the bazel binary's path, size and mtime, startup options, query
flags, the expression, this file's format version), so a CI run on a branch reuses what the
previous run computed for the same merge-base and never a stale answer.
"""

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from tools.affected.query_output import Target

log = logging.getLogger("affected")

_FORMAT = 2  # 2: definitions read from protobuf, not JSON; rows in lines
# An entry is JSON lines of this many rows each. Decoding a whole graph as one document took
# 2.5x longer (one huge allocation burst) and held the interpreter lock throughout, stalling
# the thread that reads the head's query meanwhile; lines take 40 ms for 15,000 targets.
_ROWS_PER_LINE = 200
# Entries kept per kind; older ones are deleted when a new one is written.
_KEEP = 32


def _digest(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def binary_identity(binary: str) -> list[object]:
    """What identifies a Bazel binary for caching: its resolved path, size and modification time."""
    for folder in [""] if "/" in binary else os.environ.get("PATH", "").split(os.pathsep):
        path = Path(folder, binary) if folder else Path(binary)
        if path.is_file():
            stat = path.resolve().stat()
            return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]
    return [binary]


class BaseCache:
    """Query results at base commits, on disk under ``directory``.

    Args:
        directory: where entries live (created on first write).
        salt_parts: everything besides the commit that shapes Bazel's answers.
    """

    def __init__(self, directory: Path, salt_parts: list[object]):
        """Open (lazily) the cache in ``directory``."""
        self.directory = directory
        self.salt = _digest([_FORMAT, *salt_parts])

    def _path(self, kind: str, commit: str, detail: object) -> Path:
        return self.directory / f"{kind}-{commit}-{_digest([self.salt, detail])}.json"

    def _read(self, path: Path) -> dict[str, Target] | None:
        targets: dict[str, Target] = {}
        try:
            with path.open() as entry:
                for line in entry:
                    for row in json.loads(line):
                        targets[row[0]] = Target.from_row(row)
        except OSError, ValueError:
            return None
        except TypeError, IndexError, KeyError:
            log.warning("affected: ignoring a damaged cache entry %s", path)
            return None
        return targets

    def _write(self, path: Path, kind: str, targets: dict[str, Target]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.directory, suffix=".tmp", delete=False) as f:
                rows = [t.to_row() for t in targets.values()]
                for first in range(0, len(rows), _ROWS_PER_LINE):
                    f.write(json.dumps(rows[first : first + _ROWS_PER_LINE], separators=(",", ":")) + "\n")
            os.replace(f.name, path)
            entries = sorted(self.directory.glob(f"{kind}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in entries[_KEEP:]:
                old.unlink(missing_ok=True)
        except OSError as err:  # a cache that cannot be written only costs time
            log.warning("affected: could not write the cache entry %s: %s", path, err)

    def has(self, kind: str, commit: str, detail: object) -> bool:
        """Whether an entry for (kind, commit, detail) exists (it may still turn out damaged)."""
        return self._path(kind, commit, detail).is_file()

    def get_or_compute(
        self, kind: str, commit: str, detail: object, compute: Callable[[], dict[str, Target]]
    ) -> tuple[dict[str, Target], bool]:
        """The cached answer for (kind, commit, detail), or ``compute()``'s, stored for next time.

        Args:
            kind: what is cached ("graph", "definitions").
            commit: the base commit.
            detail: what else identifies the answer (e.g. the query expression).
            compute: runs the query on a cache miss.

        Returns:
            (targets, whether they came from the cache).
        """
        path = self._path(kind, commit, detail)
        cached = self._read(path)
        if cached is not None:
            return cached, True
        targets = compute()
        self._write(path, kind, targets)
        return targets, False
