"""Writes one deterministic layer tar from a manifest of (path in image, file or directory on disk)."""

import argparse
import os
import sys

from bazel.oci import ocilib
from bazel.oci.ocilib import Entry

# Never shipped: bytecode caches written during the build, and VCS metadata.
SKIP_PARTS = frozenset({"__pycache__", ".git", ".pytest_cache", ".ruff_cache"})


def skipped(path: str) -> bool:
    """True for bytecode caches and VCS metadata."""
    return path.endswith((".pyc", ".pyo")) or not SKIP_PARTS.isdisjoint(path.split("/"))


def main(argv: list[str] | None = None) -> int:
    """Reads `dest<TAB>source` lines (source "" means an empty file) and writes the layer."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", required=True, help="lines of: path in image, TAB, source path")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    entries: dict[str, Entry] = {}
    with open(args.manifest) as handle:
        for line in handle:
            if not line.strip():
                continue
            dest, _, source = line.rstrip("\n").partition("\t")
            dest = os.path.normpath(dest.lstrip("/"))
            if not source:
                found = [Entry(dest, "file", 0o644)]
            elif os.path.isdir(source):
                found = ocilib.tree_entries(source, dest)
            else:
                found = [ocilib.file_entry(dest, source)]
            for entry in found:
                if not skipped(entry.path):
                    entries[entry.path] = entry
    ocilib.write_tar(entries.values(), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
