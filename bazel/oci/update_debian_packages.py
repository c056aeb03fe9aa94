"""Regenerates the pinned .debs of the images: debian_packages.bzl (base), debian_worker_packages.bzl (worker)."""

import argparse
import lzma
import os
import re
import sys
import urllib.request
from pathlib import Path

# What the services need at run time: Python 3.14 with its standard library, the C++ runtime
# that manylinux wheels (numpy, scipy, pandas, pyarrow, scikit-learn) link against, CA
# certificates, time zones, /etc/services and friends, and the filesystem skeleton.
ROOTS = (
    "base-files",
    "netbase",
    "tzdata",
    "ca-certificates",
    "media-types",
    "libc6",
    "libgcc-s1",
    "libstdc++6",
    "python3.14",
)

# Dependencies that only serve package management or maintainer scripts. An image is
# extracted, never configured, so these would be dead weight (and a shell, perl, dpkg).
SKIP = frozenset(
    {
        "awk",
        "mawk",
        "debconf",
        "debconf-2.0",
        "dpkg",
        "perl-base",
        "openssl",
        "libc-bin",
        "coreutils",
        "install-info",
    }
)

# The build farm's worker image (tools/remote_exec:worker_image) is the base plus these: the
# buildbox worker, its local CAS and runner, /usr/bin/python3 (the path the Python toolchain
# names; the base has only python3.14), and the shell and core tools that genrules and test
# scripts call. Only what the base does not already hold is pinned for it.
WORKER_ROOTS = (
    "buildbox",
    "python3-minimal",
    "bash",
    "coreutils",
    "findutils",
    "grep",
    "sed",
    "gzip",
    "tar",
)
WORKER_SKIP = SKIP - {"coreutils"}

# Each package set: its roots, what it skips, the pins file it writes, and what it says.
PACKAGE_SETS = {
    "base": (ROOTS, SKIP, "debian_packages.bzl", "the base image"),
    "worker": (
        WORKER_ROOTS,
        WORKER_SKIP,
        "debian_worker_packages.bzl",
        "the build farm's worker image, on top of the base",
    ),
}

# The index apt-get update keeps in the build root (refresh it with
# `./tools/buildroot run apt-get -o Acquire::Check-Valid-Until=false update`). A URL of a
# Packages.xz file also works with --index.
DEFAULT_INDEX = "/var/lib/apt/lists/deb.debian.org_debian_dists_sid_main_binary-{arch}_Packages"


def parse_index(text: str) -> dict[str, dict[str, str]]:
    """Parses a Debian Packages index into {package: fields}, keeping the first stanza per name."""
    packages: dict[str, dict[str, str]] = {}
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            packages.setdefault(fields["Package"], fields)
    return packages


def providers(packages: dict[str, dict[str, str]]) -> dict[str, str]:
    """Maps virtual package names to the first real package that provides them."""
    virtual: dict[str, str] = {}
    for name, fields in sorted(packages.items()):
        for item in fields.get("Provides", "").split(","):
            provided = re.split(r"[\s(]", item.strip(), maxsplit=1)[0]
            if provided:
                virtual.setdefault(provided, name)
    return virtual


def dependency_names(fields: dict[str, str]) -> list[str]:
    """Returns the first alternative of each Pre-Depends/Depends item, without versions or arch."""
    names = []
    for key in ("Pre-Depends", "Depends"):
        for item in fields.get(key, "").split(","):
            first = item.split("|")[0].strip()
            name = re.split(r"[\s(:]", first, maxsplit=1)[0]
            if name:
                names.append(name)
    return names


def closure(packages: dict[str, dict[str, str]], roots: tuple[str, ...], skip: frozenset[str] = SKIP) -> list[str]:
    """Returns the sorted dependency closure of `roots`, minus `skip`.

    Args:
        packages: the parsed index.
        roots: packages to start from.
        skip: packages left out, with whatever only they would pull in.
    """
    virtual = providers(packages)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in skip:
            continue
        if name not in packages:
            if name in virtual:
                todo.append(virtual[name])
                continue
            raise SystemExit(f"update_debian_packages: {name} is not in the index")
        if name in seen:
            continue
        seen.add(name)
        todo.extend(dependency_names(packages[name]))
    return sorted(seen)


def render(packages: dict[str, dict[str, str]], names: list[str], arch: str, package_set: str = "base") -> str:
    """Renders the .bzl file with one pin per package."""
    flag = "" if package_set == "base" else f" --set {package_set}"
    lines = [
        f'"""Debian packages of {PACKAGE_SETS[package_set][3]}, pinned by version and sha256.',
        "",
        "GENERATED by bazel/oci/update_debian_packages.py; do not edit by hand. Regenerate with",
        f"    ./tools/buildroot run python3 bazel/oci/update_debian_packages.py{flag}",
        "(reads the build root's sid Packages index, as apt-get update left it; see that script",
        "for the root packages and the skipped ones).",
        '"""',
        "",
        f'DEBIAN_ARCH = "{arch}"',
        "",
        "DEBIAN_PACKAGES = [",
    ]
    for name in names:
        fields = packages[name]
        lines += [
            "    {",
            f'        "name": "{name}",',
            f'        "version": "{fields["Version"]}",',
            f'        "path": "{fields["Filename"]}",',
            f'        "sha256": "{fields["SHA256"]}",',
            "    },",
        ]
    lines.append("]")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Fetches (or reads) the Packages index and writes the pins file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default="amd64")
    parser.add_argument("--index", help="a Packages or Packages.xz file or URL (default: the build root's apt list)")
    parser.add_argument("--set", dest="package_set", choices=sorted(PACKAGE_SETS), default="base")
    parser.add_argument("--output", help="where to write (default: the set's .bzl file next to this script)")
    args = parser.parse_args(argv)

    source = args.index or DEFAULT_INDEX.format(arch=args.arch)
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=120) as response:
            raw = response.read()
    else:
        raw = Path(source).read_bytes()
    text = (lzma.decompress(raw) if raw[:6] == b"\xfd7zXZ\x00" else raw).decode("utf-8")

    packages = parse_index(text)
    roots, skip, filename, _ = PACKAGE_SETS[args.package_set]
    names = closure(packages, roots, skip)
    if args.package_set != "base":
        base = set(closure(packages, ROOTS))
        names = [name for name in names if name not in base]
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    default = Path(workspace, "bazel/oci") if workspace else Path(__file__).resolve().parent
    output = Path(args.output) if args.output else default / filename
    output.write_text(render(packages, names, args.arch, args.package_set))
    print(f"update_debian_packages: {len(names)} packages -> {output}", file=sys.stderr)
    for name in names:
        print(f"{name}\t{packages[name]['Version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
