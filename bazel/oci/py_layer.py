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
    parser.add_argument("--pyc", action="store_true", help="add unchecked-hash bytecode for every .py file")
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
    if args.pyc:
        # Sorted, in one fresh process: marshal's output then depends only on the sources.
        sources = sorted(path for path, entry in entries.items() if path.endswith(".py") and entry.source)
        compiled = [ocilib.bytecode_entry(entries[path]) for path in sources]
        for entry in filter(None, compiled):
            entries[entry.path] = entry
        failed = compiled.count(None)
        print(f"py_layer: {len(sources) - failed} bytecode files, {failed} sources left uncompiled", file=sys.stderr)
    ocilib.write_tar(entries.values(), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
