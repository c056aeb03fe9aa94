"""Which external targets came out different at two revisions: the files of each fetched repository, compared.

Bazel re-runs an action only when the content of one of its inputs changed. When a file that
repository rules read changes (the interpreter pip.parse runs, a patch), every repository it
feeds is fetched again, yet most come out byte for byte the same, and their users are then
not re-run. Comparing what the fetches wrote, file by file, tells which targets really changed.
"""

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.affected.query_output import Target
from tools.affected.result import Fallback
from tools.hashing import sha256_file


@dataclass(frozen=True)
class FetchedRevision:
    """One revision after a ``deps(//...)`` query fetched every repository its graph reaches.

    Attributes:
        workspace: the revision's checkout.
        external: the output base's ``external`` directory.
        graph: the query's answer.
        mapping: the main repository's apparent repository names -> canonical names
            (``bazel mod dump_repo_mapping ''``): query prints ``@pypi//pandas`` for a
            repository the main one sees, ``@@rules_python~~pip~pypi_pandas//:pkg`` for others.
    """

    workspace: Path
    external: Path
    graph: dict[str, Target]
    mapping: dict[str, str]

    def repository(self, label: str) -> str | None:
        """The canonical name of a label's repository; None for the main repository."""
        if label.startswith("@@"):
            return label[2:].split("//", 1)[0] or None
        if label.startswith("@"):
            apparent = label[1:].split("//", 1)[0]
            return self.mapping.get(apparent, apparent) or None
        return None

    def canonical(self, label: str) -> str:
        """The label with its repository's canonical name (``@@name//...``); main-repository labels as they are."""
        name = self.repository(label)
        return f"@@{name}//{label.split('//', 1)[1]}" if name else label

    def repositories(self) -> set[str]:
        """Every external repository that has a target in the graph."""
        names = {self.repository(label) for label in self.graph}
        names.discard(None)
        return names


def file_digests(directory: Path, workspace: Path | None = None) -> dict[str, str]:
    """{relative path: digest} of every file under ``directory`` (a repository).

    A symlink to a file counts as the file it points to (a repository may link a file of its
    own output base, whose path differs between two output bases). A symlink to a directory
    inside ``workspace`` (a local repository's files) counts as that directory's files, since
    they change with the revision; any other (the JDK's directories, Bazel's own rules under
    /usr/share) counts as the path it holds, as does a symlink that points nowhere. Bazel's
    marker files live next to the repositories, not in them, so they are not part of it.
    """
    found: dict[str, str] = {}
    inside = f"{os.path.realpath(workspace)}/" if workspace else None
    _add_tree(found, str(directory), "", inside, set())
    return found


def _add_tree(found: dict[str, str], directory: str, prefix: str, workspace: str | None, seen: set[str]) -> None:
    real = os.path.realpath(directory)
    followed = workspace is not None and f"{real}/".startswith(workspace) and real not in seen
    if os.path.islink(directory) and not followed:
        found[prefix or "."] = f"link:{os.readlink(directory)}"
        return
    seen.add(real)
    for root, dirs, files in os.walk(directory):
        relative = os.path.normpath(os.path.join(prefix, os.path.relpath(root, directory)))
        for name in files:
            path = os.path.join(root, name)
            key = os.path.normpath(os.path.join(relative, name))
            if os.path.islink(path) and not os.path.isfile(path):
                found[key] = f"link:{os.readlink(path)}"
            else:
                found[key] = sha256_file(path)
        # os.walk lists a symlink to a directory among the directories but does not enter it.
        for name in dirs:
            path = os.path.join(root, name)
            if os.path.islink(path):
                _add_tree(found, path, os.path.normpath(os.path.join(relative, name)), workspace, seen)


def _trees(fetched: FetchedRevision, names: Iterable[str], threads: int = 4) -> dict[str, dict[str, str] | None]:
    """{repository: file_digests} for the named repositories of a revision (None: not fetched there)."""

    def one(name: str) -> tuple[str, dict[str, str] | None]:
        directory = fetched.external / name
        present = directory.exists() or directory.is_symlink()
        return name, file_digests(directory, fetched.workspace) if present else None

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return dict(pool.map(one, sorted(names)))


def _differing_paths(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def _file_path(label: str) -> str:
    """``pkg/name`` for ``@@repo//pkg:name`` (``name`` for ``@@repo//:name``)."""
    package, _, name = label.split("//", 1)[1].partition(":")
    return os.path.normpath(os.path.join(package, name or package.rsplit("/", 1)[-1]))


def changed_targets(base: FetchedRevision, head: FetchedRevision) -> dict[str, str]:
    """{head label: why} for the targets that Bazel would see differently at the head.

    Per repository the head's graph reaches: a new one changes all its targets. In one both
    revisions fetched, a source file counts when its bytes differ (a directory: any file under
    it) and a rule when its definition (class and attributes, globs expanded) or its inputs
    differ; files that no target names (a wheel's RECORD, say) are inputs of no action.
    Main-repository rules count the same way (a BUILD edit, or use_repo mapping a name to
    another repository).

    Both graphs must hold definitions (``Bazel.query``, not ``query_graph``).

    Raises:
        Fallback: when a .bzl file of a repository differs: rules or macros defined there can
            build differently anywhere they are used, which no graph edge shows.
    """
    head_names = head.repositories()
    shared = head_names & base.repositories()
    with ThreadPoolExecutor(max_workers=2) as pool:
        base_side = pool.submit(_trees, base, shared)
        head_side = pool.submit(_trees, head, shared)
        before, after = base_side.result(), head_side.result()
    # A repository the query did not leave on disk (it should) is treated like a new one.
    compared = {name for name in shared if before[name] is not None and after[name] is not None}
    differing: dict[str, set[str]] = {}
    for name in compared:
        differing[name] = _differing_paths(before[name], after[name])
        if bzl := sorted(p for p in differing[name] if p.endswith(".bzl")):
            raise Fallback(f"external repository @@{name}: {bzl[0]} differs from the base's")
    base_targets = {head.canonical(label): target for label, target in base.graph.items()}
    why: dict[str, str] = {}
    for label, target in head.graph.items():
        name = head.repository(label)
        if name is not None and name not in compared:
            why[label] = f"external repository @@{name} is new at the head (or was not fetched at one side)"
        elif name is not None and not differing[name]:
            continue
        elif target.is_rule:
            old = base_targets.get(head.canonical(label))
            if old is None or (old.rule_class, old.attributes) != (target.rule_class, target.attributes):
                why[label] = f"the definition of {label} differs from the base's"
            elif {base.canonical(i) for i in old.inputs} != {head.canonical(i) for i in target.inputs}:
                why[label] = f"the inputs of {label} resolve to other targets than the base's"
        elif name is not None:
            path = _file_path(label)
            if any(p == path or p.startswith(f"{path}/") for p in differing[name]):
                why[label] = f"external repository @@{name}: {path} differs from the base's"
    return why
