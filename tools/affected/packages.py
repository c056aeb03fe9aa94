"""Bazel packages read from git, without Bazel: which package owns a file, which files load which .bzl."""

import os
import re
from pathlib import Path

from tools.affected.revisions import file_at, files_at

BUILD_NAMES = ("BUILD", "BUILD.bazel")


_BUILD_SUFFIXES = tuple("/" + name for name in BUILD_NAMES)


def is_build_file(path: str) -> bool:
    """Whether ``path`` names a BUILD file."""
    return path.endswith(_BUILD_SUFFIXES) or path in BUILD_NAMES


class Packages:
    """The packages of one revision: directories holding a BUILD file, minus .bazelignore'd ones.

    Attributes:
        files: every file path at the revision.
        build_files: package directory -> the BUILD file Bazel reads there (BUILD.bazel wins
            when both exist).
        dirs: the package directories.
    """

    def __init__(self, files: list[str], ignored: list[str]):
        """Build from the revision's file list and its .bazelignore entries."""
        self.files = files
        self.ignored = tuple(p.rstrip("/") + "/" for p in ignored)
        self.build_files: dict[str, str] = {}
        for f in files:
            if not is_build_file(f) or (f + "/").startswith(self.ignored):
                continue
            directory = f.rsplit("/", 1)[0] if "/" in f else ""
            if f.endswith(".bazel") or directory not in self.build_files:
                self.build_files[directory] = f
        self.dirs = set(self.build_files)

    @classmethod
    def at(cls, repo: Path, commit: str | None, untracked: list[str] = ()) -> Packages:
        """The packages at ``commit`` (None: the working tree, with its ``untracked`` files)."""
        files = files_at(repo, commit)
        if commit is None:  # ls-files still lists tracked files deleted from the working tree
            files = [f for f in files if not is_build_file(f) or os.path.exists(os.path.join(repo, f))]
            files = list(dict.fromkeys(files + list(untracked)))
        ignore_text = file_at(repo, commit, ".bazelignore")
        ignored = [line.strip() for line in ignore_text.splitlines() if line.strip() and not line.startswith("#")]
        return cls(files, ignored)

    def owner(self, path: str) -> str | None:
        """The package a file belongs to, or None (no package, or an ignored directory)."""
        if (path + "/").startswith(self.ignored):
            return None
        parts = path.split("/")[:-1]
        while True:
            candidate = "/".join(parts)
            if candidate in self.dirs:
                return candidate
            if not parts:
                return None
            parts.pop()

    def label(self, path: str) -> str | None:
        """The file's label, or None when no package owns it."""
        package = self.owner(path)
        if package is None:
            return None
        rel = path[len(package) + 1 :] if package else path
        return f"//{package}:{rel}"


_LOAD = re.compile(r"""^\s*load\(\s*["']([^"']+)["']""", re.MULTILINE)
_MODULE_BZL = re.compile(r"""["']((?:@@?)?//[^"']*\.bzl)["']""")
_MODULE_NAME = re.compile(r"""module\(\s*name\s*=\s*["']([^"']+)""")


class LoadGraph:
    """Which BUILD and .bzl files load which main-repository .bzl files, read from the sources.

    Loads are string literals by language rule, so reading them is exact; this is what
    ``rbuildfiles`` answers, without a whole-universe query.
    """

    def __init__(self, loads: dict[str, set[str]], packages: Packages, module_bzl: set[str]):
        """``loads``: file path -> paths of the main-repo .bzl files it loads."""
        self.loads = loads
        self.packages = packages
        self.module_bzl = module_bzl

    @staticmethod
    def _resolve(label: str, loader: str, packages: Packages, module_name: str) -> str | None:
        prefixes = ["@@//", "@//"] + ([f"@@{module_name}//", f"@{module_name}//"] if module_name else [])
        for prefix in prefixes:
            if label.startswith(prefix):
                label = "//" + label[len(prefix) :]
                break
        if label.startswith("//"):
            package, _, name = label[2:].partition(":")
            if not name:
                return None
        elif label.startswith(":"):
            package, name = packages.owner(loader) or "", label[1:]
        else:
            return None  # another repository: not changed by this diff
        return f"{package}/{name}" if package else name

    @classmethod
    def scan(cls, root: Path, packages: Packages, module_text: str) -> LoadGraph:
        """Read every BUILD file of ``packages`` and every .bzl file it lists, under ``root``.

        ``root`` is the head's checkout: the user's working tree, or a cached checkout that is
        not a git repository itself, which is why the file list comes from ``packages``.
        """
        module_name = (_MODULE_NAME.search(module_text) or [None, ""])[1]
        bzl_files = [f for f in packages.files if f.endswith(".bzl")]
        loads: dict[str, set[str]] = {}
        for path in bzl_files + list(packages.build_files.values()):
            try:
                with open(os.path.join(root, path), "rb") as file:  # not pathlib: 3x cheaper per file here
                    data = file.read()
            except OSError:
                continue
            if b"load" not in data:  # most files of a large repository: skip decoding and the regex
                loads[path] = set()
                continue
            text = data.decode(errors="replace")
            resolved = {cls._resolve(m, path, packages, module_name) for m in _LOAD.findall(text)}
            loads[path] = {r for r in resolved if r}
        module_bzl = {cls._resolve(m, "MODULE.bazel", packages, module_name) for m in _MODULE_BZL.findall(module_text)}
        return cls(loads, packages, {m for m in module_bzl if m})

    def _closure(self, changed: list[str]) -> set[str]:
        users: dict[str, set[str]] = {}
        for file, loaded in self.loads.items():
            for bzl in loaded:
                users.setdefault(bzl, set()).add(file)
        seen, stack = set(changed), list(changed)
        while stack:
            for user in users.get(stack.pop(), ()):
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        return seen

    def packages_loading(self, changed: list[str]) -> set[str]:
        """Packages whose BUILD file loads one of ``changed``, directly or through other .bzl files."""
        found = set()
        for file in self._closure(changed):
            if is_build_file(file):
                found.add(file.rsplit("/", 1)[0] if "/" in file else "")
        return found

    def reached_from_module(self, changed: list[str]) -> str | None:
        """A changed .bzl that MODULE.bazel loads (directly or through other .bzl files), if any."""
        reached = self._closure(changed)
        for bzl in sorted(self.module_bzl & reached):
            return bzl
        return None


def registered_toolchains(module_text: str) -> list[str]:
    """Main-repo toolchain labels registered in MODULE.bazel (a change under one affects everything)."""
    found = []
    for call in re.finditer(r"register_toolchains\((.*?)\)", module_text, re.DOTALL):
        found += [label for label in re.findall(r'"([^"]+)"', call.group(1)) if label.startswith("//")]
    return found
