"""From changed files to seeds: the changed files, wheels and rule definitions whose users are affected.

Each step takes what the previous one produced and returns a new value; none mutates its inputs.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from tools.affected import lockfile
from tools.affected.packages import Packages, is_build_file
from tools.affected.query_output import Target
from tools.affected.result import Fallback
from tools.gitdiff import Change

# Files whose change can alter every target's configuration or the module graph.
# MODULE.bazel.lock is not among them: Bazel rewrites it itself, and it only records what
# MODULE.bazel (global) and the lock files (mapped per package) already say.
GLOBAL_FILES = frozenset(
    {
        "MODULE.bazel",
        ".bazelrc",
        ".bazelversion",
        ".bazelignore",
        "WORKSPACE",
        "WORKSPACE.bazel",
        "WORKSPACE.bzlmod",
        "REPO.bazel",
        "tools/bazel",
    }
)
# The offline build root: its registry, package list and scripts shape every build. Its rc
# file is read like any other (below): only options that change outputs select everything.
GLOBAL_PREFIXES = ("bazel/buildroot/",)
GLOBAL_SUFFIXES = (".bazelrc",)


# Global files whose edit can be judged more finely: .bazelrc files (bazelrc.py) and MODULE.bazel
# (module_file.py).
JUDGED_FILES = frozenset({"MODULE.bazel"})


def global_trigger(
    changes: list[Change], edit_is_not_global: Callable[[Change], bool] = lambda change: False
) -> str | None:
    """The first changed path that can change every target's configuration, if any.

    Args:
        changes: the changed files.
        edit_is_not_global: whether a changed (not renamed) .bazelrc or MODULE.bazel cannot change
            every target: an rc file that differs only in comments and options that change no
            output (``bazelrc.edit_is_inert``), a MODULE.bazel that differs only in comments or
            in what defines external repositories (``module_file.classify_edit``).
    """
    for change in changes:
        for path in change.paths:
            name = path.rsplit("/", 1)[-1]
            judged = name.endswith(GLOBAL_SUFFIXES) or path in JUDGED_FILES
            # A renamed file is never judged: an import of its old name no longer finds it.
            if judged and not change.old_path and edit_is_not_global(change):
                continue
            if judged or path in GLOBAL_FILES or path.startswith(GLOBAL_PREFIXES):
                return path
    return None


# A main-repository label in a string literal of MODULE.bazel: "//pkg:name", "@//pkg:name",
# "@@//pkg:name" or "//pkg" (target "pkg"'s last directory). Other repositories' labels
# (@pypi//...) are not files of this workspace.
_MODULE_LABEL = re.compile(r'"@{0,2}//(?P<package>[A-Za-z0-9_./+-]*)(?::(?P<name>[^"]+))?"')


def module_references(module_text: str) -> frozenset[str]:
    """Workspace paths that MODULE.bazel names as labels (interpreters, lock files, patches, .bzl files).

    A module extension or repository rule reads these while it creates external repositories,
    so a change to one can change any target that uses those repositories.
    """
    paths = set()
    for match in _MODULE_LABEL.finditer(module_text):
        package, name = match.group("package"), match.group("name")
        if name is None:
            name = package.rsplit("/", 1)[-1]
        paths.add(f"{package}/{name}" if package else name)
    return frozenset(paths)


def module_reference_trigger(changes: list[Change], module_text: str, handled: frozenset[str]) -> str | None:
    """The first changed path that MODULE.bazel names, other than the ``handled`` ones (the pip locks).

    The lock files are mapped to the wheels whose pins changed; any other named file (the
    interpreter pip.parse runs, a patch) gives no finer answer than "everything".
    """
    referenced = module_references(module_text) - handled
    for change in changes:
        for path in change.paths:
            if path in referenced:
                return path
    return None


@dataclass(frozen=True)
class ChangeSet:
    """What the changed files mean for the graph, before any query.

    Attributes:
        file_seeds: head label of each changed file that a package owns -> cause.
        suspects: packages whose rules must be compared at both revisions.
        deleted: base label of each deleted (or moved away) file -> its path.
        changed_bzl: changed .bzl paths present at the head.
        locks: changed lock paths -> their pip hub.
        gained_files: head packages that gained a file (a glob there may now match it).
        unowned: changed paths that no package owns at either revision (docs, ignored
            directories, local repositories).
    """

    file_seeds: dict[str, str]
    suspects: frozenset[str]
    deleted: dict[str, str]
    changed_bzl: tuple[str, ...]
    locks: dict[str, str]
    gained_files: frozenset[str]
    unowned: tuple[str, ...]


def classify(changes: list[Change], head: Packages, base: Packages, locks: dict[str, str]) -> ChangeSet:
    """Sort the changed files into file seeds, suspect packages, deletions, .bzl edits and lock edits.

    Args:
        changes: the changed files.
        head: the packages at the head revision.
        base: the packages at the base revision.
        locks: {lock path: pip hub} of the lock files pip.parse reads.
    """
    file_seeds: dict[str, str] = {}
    suspects: set[str] = set()
    deleted: dict[str, str] = {}
    gained: set[str] = set()
    for change in changes:
        present = [change.path] if change.status != "D" else []
        gone = [change.path] if change.status == "D" else ([change.old_path] if change.old_path else [])
        for path in present:
            if label := head.label(path):
                verb = {"A": "added", "R": "moved here"}.get(change.status, "changed")
                file_seeds[label] = f"{path} {verb}"
            if change.status in ("A", "R") and (owner := head.owner(path)) is not None:
                gained.add(owner)
        for path in gone:
            if label := base.label(path):
                deleted[label] = path
            suspects |= _owners(path, head, base)
        suspects |= {owner for path in present + gone if is_build_file(path) for owner in _owners(path, head, base)}
    paths = [p for c in changes for p in c.paths]
    return ChangeSet(
        file_seeds=file_seeds,
        suspects=frozenset(suspects),
        deleted=deleted,
        changed_bzl=tuple(c.path for c in changes if c.status != "D" and c.path.endswith(".bzl")),
        locks={p: locks[p] for p in paths if p in locks},
        gained_files=frozenset(gained),
        unowned=tuple(dict.fromkeys(p for p in paths if head.owner(p) is None and base.owner(p) is None)),
    )


def _owners(path: str, head: Packages, base: Packages) -> set[str]:
    """The packages owning ``path`` at either revision."""
    return {owner for owner in (head.owner(path), base.owner(path)) if owner is not None}


@dataclass(frozen=True)
class LockEdit:
    """One changed lock file.

    Attributes:
        path: the lock file.
        hub: the pip hub that reads it.
        diff: which pins changed.
        head_packages: the packages the head lock pins (normalized names).
    """

    path: str
    hub: str
    diff: lockfile.LockDiff
    head_packages: frozenset[str]


def lock_edit(path: str, hub: str, base_text: str, head_text: str) -> LockEdit:
    """Compare the two versions of a lock file.

    Raises:
        Fallback: when its index or pip options changed (every package may resolve differently).
        ValueError: when either version is not a requirements lock.
    """
    ldiff = lockfile.diff(base_text, head_text)
    if ldiff.options_changed:
        raise Fallback(f"{path}: index or pip options changed; every package may resolve differently")
    return LockEdit(path, hub, ldiff, frozenset(lockfile.parse(head_text)[0]))


def wheel_seeds(edits: list[LockEdit], actual_labels: Callable[[str], list[str]]) -> dict[str, str]:
    """The wheel targets of exactly the packages whose pins changed, each with the pin change.

    Args:
        edits: the changed lock files.
        actual_labels: a query expression -> labels (the head checkout's ``query_labels``).
    """
    aliases: dict[str, str] = {}
    for edit in edits:
        for name, what in edit.diff.packages.items():
            if name in edit.head_packages:
                aliases[f"@{edit.hub}//{name}"] = f"{edit.path}: {what}"
    seeds: dict[str, str] = {}
    for alias, what in aliases.items():
        for actual in actual_labels(f"labels(actual, {quote(alias)})"):
            seeds[actual] = what
    return seeds


def rule_seeds(base_defs: dict[str, Target], head_defs: dict[str, Target], deleted: dict[str, str]) -> dict[str, str]:
    """Rules of the suspect packages that are new, whose definition changed, or that consumed a deleted file.

    Args:
        base_defs: the suspect packages' targets at the base revision.
        head_defs: the suspect packages' targets at the head revision.
        deleted: base label of each deleted file -> its path.
    """
    seeds: dict[str, str] = {}
    for label, target in head_defs.items():
        if not (target.is_rule and label.startswith("//")):
            continue
        before = base_defs.get(label)
        if before is None:
            seeds[label] = f"new target {label}"
        elif (before.rule_class, before.attributes) != (target.rule_class, target.attributes):
            seeds[label] = f"definition of {label} changed ({_attr_diff(before, target)})"
    for label, before in base_defs.items():
        for gone_label, path in deleted.items():
            if gone_label in before.inputs and label in head_defs:
                seeds.setdefault(label, f"{path} deleted (was an input of {label})")
    return seeds


def removed_rules(base_defs: dict[str, Target], head_defs: dict[str, Target]) -> list[str]:
    """Rules of the suspect packages that existed at the base and are gone at the head."""
    return sorted(label for label, b in base_defs.items() if b.is_rule and label not in head_defs)


def _attr_diff(before: Target, after: Target) -> str:
    names = sorted(
        name
        for name in set(before.attributes) | set(after.attributes)
        if before.attributes.get(name) != after.attributes.get(name)
    )
    if before.rule_class != after.rule_class:
        names.insert(0, "rule class")
    return ", ".join(n.lstrip("$") for n in names) or "attributes"


def quote(word: str) -> str:
    """A word as a Bazel query string literal.

    Raises:
        Fallback: when it cannot be quoted.
    """
    if '"' in word:
        raise Fallback(f"cannot quote {word!r} in a Bazel query")
    return f'"{word}"'


def package_pattern(package: str, files: bool = False) -> str:
    """The query pattern for every rule of a package (``files``: every target, files included)."""
    return f"//{package}:{'*' if files else 'all'}"


def splice(base_graph: dict[str, Target], head_targets: dict[str, Target], packages: set[str]) -> dict[str, Target]:
    """The head graph: the base graph with every target of ``packages`` replaced by the head's.

    Exact when nothing else differs between the revisions' graphs: no lock edit (wheel
    repositories) and no change outside every package (local repositories).
    """
    kept = {label: t for label, t in base_graph.items() if t.package not in packages}
    return {**kept, **head_targets}


def rdeps_universe_expression(file_seeds: dict[str, str], other_seeds: list[str]) -> str | None:
    """The one ``rdeps(//..., ...)`` query over the head graph for every seed; None when there is no seed.

    A file is a target only if its BUILD file mentions it (a glob counts), so files go through
    filter() over their package's targets rather than failing the query.
    """
    by_package: dict[str, list[str]] = {}
    for label in file_seeds:
        by_package.setdefault(label[2:].split(":", 1)[0], []).append(label)
    parts = [
        f"filter({quote('^(' + '|'.join(re.escape(label) for label in labels) + ')$')}, {quote(f'//{pkg}:*')})"
        for pkg, labels in sorted(by_package.items())
    ]
    if other_seeds:
        parts.append(f"set({' '.join(quote(label) for label in other_seeds)})")
    return f"rdeps(//..., {' + '.join(parts)})" if parts else None
