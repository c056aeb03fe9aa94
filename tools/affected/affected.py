"""From a git diff to exactly the Bazel targets it affects, each with the reason why.

How a change becomes a set of targets:

* Every changed file that is a label in the head graph is a seed (sources, data, tools).
* Packages whose BUILD file changed, that gained or lost a BUILD file below them, that held
  a deleted file, or that load a changed .bzl file are "suspect": their rules are compared
  attribute by attribute with the same package at the base revision (checked out into a
  cached git worktree). A rule whose definition differs, or that is new, is a seed; a
  comment or a reformatting changes nothing. Rules that consumed a deleted file are seeds.
* A lock-file change seeds the wheel targets of exactly the packages whose pins changed;
  wheels depend on each other directly, so their users are found through other wheels too.
* Files that can change every target's configuration (MODULE.bazel, .bazelrc,
  .bazelversion, ...) give the answer "everything", said as such.

The affected set is every target in the head graph from which a seed is reachable, computed
in Python from a single ``rdeps`` query per revision. Any failure gives "everything" with
the reason, never a silent empty set.
"""

import logging
import re
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tools.affected import kinds, lockfile
from tools.affected.bazel import Bazel, BazelError, CachedCheckout, Target, cache_dir_for, default_startup
from tools.gitdiff import Change, GitError, changed_files

log = logging.getLogger("affected")

BUILD_NAMES = ("BUILD", "BUILD.bazel")

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
# The offline build root: its registry, rc file and package list shape every build.
GLOBAL_PREFIXES = ("bazel/buildroot/",)
GLOBAL_SUFFIXES = (".bazelrc",)

DEFAULT_BRANCHES = ("origin/main", "main", "origin/master", "master")


@dataclass
class Config:
    """Everything a run needs.

    Attributes:
        workspace: the workspace (any directory inside the git repository).
        base: base revision; None means the merge-base with the main branch.
        head: head revision; None means the working tree (uncommitted and untracked files too).
        bazel: the bazel executable.
        startup: Bazel startup options; None means what tools/bazel would use.
        flags: extra options for every query (e.g. ``--registry=...``).
        cache_root: where cached worktrees and output bases live.
        locks: {lock path: pip hub name}; None means read pip.parse from MODULE.bazel.
    """

    workspace: Path
    base: str | None = None
    head: str | None = None
    bazel: str = "bazel"
    startup: list[str] | None = None
    flags: list[str] = field(default_factory=list)
    cache_root: Path | None = None
    locks: dict[str, str] | None = None


@dataclass
class AffectedTarget:
    """One affected target and why.

    Attributes:
        label: the target.
        rule_class: its rule class (its kind).
        categories: CI kinds (test, build, image, push).
        manual: tagged manual: listed, but not in the default test or build set.
        cause: the change that affects it (a file, a definition, a package pin).
        path: the dependency path from this target to the changed node.
    """

    label: str
    rule_class: str
    categories: list[str]
    manual: bool
    cause: str
    path: list[str]


@dataclass
class Result:
    """The answer.

    Attributes:
        exact: True when computed from the graph; False for an "everything" fallback.
        reason: why the answer is "everything" (None when exact).
        base: the base revision as given and the commit it resolved to.
        head: the head revision, or "working tree".
        changes: the changed files.
        targets: affected targets, sorted by label.
        removed: rules that existed at the base and are gone at the head.
        all_targets_unknown: "everything" could not even be listed (``//...`` then).
        timings: seconds per step.
    """

    exact: bool
    reason: str | None
    base: str
    base_commit: str
    head: str
    changes: list[Change]
    targets: list[AffectedTarget]
    removed: list[str] = field(default_factory=list)
    all_targets_unknown: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def selected(self, kind: str) -> list[AffectedTarget]:
        """Targets of ``kind`` that CI runs: manual targets only under ``--kind all``."""
        return [
            t for t in self.targets if kinds.matches(kind, set(t.categories)) and (kind == kinds.ALL or not t.manual)
        ]


class _Fallback(Exception):
    """Abandon the exact computation: the answer is everything, for this reason."""


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _git_bytes_at(repo: Path, commit: str | None, path: str) -> str:
    """A file's text at a commit (None: the working tree); "" when it does not exist."""
    if commit is None:
        file = repo / path
        return file.read_text(errors="replace") if file.is_file() else ""
    result = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{path}"], capture_output=True, check=False)
    return result.stdout.decode(errors="replace") if result.returncode == 0 else ""


def resolve_base(repo: Path, base: str | None) -> tuple[str, str]:
    """The base revision's name and commit.

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
        return base, _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").strip()
    except GitError:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"
        hint = (
            " (this is a shallow clone: fetch the full history, e.g. actions/checkout fetch-depth: 0)"
            if shallow
            else ""
        )
        raise GitError(f"base revision {base!r} does not exist in this repository{hint}") from None


def global_trigger(changes: list[Change]) -> str | None:
    """The first changed path that changes every target's configuration, if any."""
    for change in changes:
        for path in filter(None, (change.path, change.old_path)):
            name = path.rsplit("/", 1)[-1]
            if path in GLOBAL_FILES or path.startswith(GLOBAL_PREFIXES) or name.endswith(GLOBAL_SUFFIXES):
                return path
    return None


class Packages:
    """The packages of one revision: directories holding a BUILD file, minus .bazelignore'd ones."""

    def __init__(self, files: list[str], ignored: list[str]):
        """Build from the revision's file list and its .bazelignore entries."""
        self.ignored = tuple(p.rstrip("/") + "/" for p in ignored)
        self.dirs = {
            (f.rsplit("/", 1)[0] if "/" in f else "")
            for f in files
            if f.rsplit("/", 1)[-1] in BUILD_NAMES and not (f + "/").startswith(self.ignored)
        }

    @classmethod
    def at(cls, repo: Path, commit: str | None) -> Packages:
        """The packages at ``commit`` (None: the working tree, untracked files included)."""
        if commit is None:
            out = _git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
            files = [f for f in out.split("\0") if f and f.rsplit("/", 1)[-1] in BUILD_NAMES and (repo / f).exists()]
        else:
            out = _git(repo, "ls-tree", "-r", "-z", "--name-only", commit)
            files = [f for f in out.split("\0") if f]
        ignore_text = _git_bytes_at(repo, commit, ".bazelignore")
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


def _quote(word: str) -> str:
    if '"' in word:
        raise _Fallback(f"cannot quote {word!r} in a Bazel query")
    return f'"{word}"'


def _pattern_all(package: str) -> str:
    return f"//{package}:all"


_LOAD = re.compile(r"""^\s*load\(\s*["']([^"']+)["']""", re.MULTILINE)
_MODULE_BZL = re.compile(r"""["']((?:@@?)?//[^"']*\.bzl)["']""")


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
        """Read every BUILD file of ``packages`` and every .bzl file under ``root`` (git's view)."""
        module_name = (re.search(r"""module\(\s*name\s*=\s*["']([^"']+)""", module_text) or [None, ""])[1]
        out = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.bzl")
        bzl_files = [f for f in out.split("\0") if f]
        build_files = []
        for pkg in packages.dirs:
            for name in BUILD_NAMES:
                path = f"{pkg}/{name}" if pkg else name
                if (root / path).is_file():
                    build_files.append(path)
                    break
        loads: dict[str, set[str]] = {}
        for path in bzl_files + build_files:
            try:
                text = (root / path).read_text(errors="replace")
            except OSError:
                continue
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
            if file.rsplit("/", 1)[-1] in BUILD_NAMES:
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


def _checkout_for(cfg: Config, repo: Path, commit: str | None, slot: str) -> tuple[Bazel, CachedCheckout | None]:
    """A Bazel for a revision: the user's workspace for the working tree, else a cached worktree."""
    if commit is None:
        startup = cfg.startup if cfg.startup is not None else default_startup(repo)
        return Bazel(cfg.bazel, repo, list(startup), list(cfg.flags)), None
    cached = CachedCheckout(repo, cache_dir_for(repo, cfg.cache_root), slot)
    workdir = cached.checkout(commit)
    startup = list(cfg.startup) if cfg.startup is not None else default_startup(workdir)
    startup.append(f"--output_base={cached.output_base}")
    return Bazel(cfg.bazel, workdir, startup, list(cfg.flags)), cached


def _everything(cfg: Config, repo: Path, head: Bazel | None, reason: str, base=("", ""), changes=()) -> Result:
    """The conservative answer: every target at the head, with the reason."""
    log.warning("affected: everything (%s)", reason)
    targets: list[AffectedTarget] = []
    unknown = False
    try:
        if head is None:
            head, _ = _checkout_for(cfg, repo, None, "head")
        found = head.query("kind(rule, //...)", "--proto:output_rule_attrs=tags")
        for t in sorted(found.values(), key=lambda t: t.label):
            cats = sorted(kinds.categories(t.label, t.rule_class, t.tags))
            targets.append(
                AffectedTarget(t.label, t.rule_class, cats, kinds.is_manual(t.tags), f"everything: {reason}", [])
            )
    except (BazelError, OSError) as err:
        log.error("affected: could not list the targets either: %s", err)
        unknown = True
    return Result(False, reason, base[0], base[1], "", list(changes), targets, all_targets_unknown=unknown)


def compute(cfg: Config) -> Result:
    """Compute the affected targets between two revisions.

    Args:
        cfg: what to compare and how to run Bazel.

    Returns:
        The affected targets with reasons; on any error an explicit "everything" answer.
    """
    started = time.monotonic()
    timings: dict[str, float] = {}
    try:
        repo = Path(_git(cfg.workspace, "rev-parse", "--show-toplevel").strip())
    except (GitError, OSError) as err:
        return _everything(cfg, cfg.workspace, None, f"not a git repository: {err}")
    try:
        base_name, base_commit = resolve_base(repo, cfg.base)
        head_commit = _git(repo, "rev-parse", "--verify", f"{cfg.head}^{{commit}}").strip() if cfg.head else None
        changes = changed_files(repo, base_commit, head_commit)
    except GitError as err:
        return _everything(cfg, repo, None, str(err))
    timings["git"] = time.monotonic() - started
    head_name = cfg.head or "working tree"
    trigger = global_trigger(changes)
    if trigger:
        result = _everything(
            cfg,
            repo,
            None,
            f"{trigger} changed: it can change every target's configuration",
            (base_name, base_commit),
            changes,
        )
        result.head = head_name
        return result
    cached: list[CachedCheckout] = []
    head_bazel = None
    try:
        head_bazel, head_cache = _checkout_for(cfg, repo, head_commit, "head")
        cached += [head_cache] if head_cache else []
        result = _compute_exact(cfg, repo, base_commit, head_commit, head_bazel, changes, cached, timings)
    except (_Fallback, BazelError, GitError, ValueError, OSError) as err:
        result = _everything(cfg, repo, head_bazel, str(err), (base_name, base_commit), changes)
    finally:
        for c in cached:
            c.close()
    result.base, result.base_commit, result.head = base_name, base_commit, head_name
    timings["total"] = time.monotonic() - started
    result.timings = {k: round(v, 3) for k, v in timings.items()}
    return result


def _compute_exact(cfg, repo, base_commit, head_commit, head_bazel, changes, cached, timings) -> Result:
    t = time.monotonic()
    head_pkgs = Packages.at(repo, head_commit)
    base_pkgs = Packages.at(repo, base_commit)
    head_module = _git_bytes_at(repo, head_commit, "MODULE.bazel")
    locks = cfg.locks if cfg.locks is not None else lockfile.pip_hubs(head_module)

    seeds: dict[str, str] = {}  # label -> cause
    file_seeds: dict[str, str] = {}  # head file label -> cause
    suspects: set[str] = set()  # packages to compare at both revisions
    deleted: dict[str, str] = {}  # base label of a deleted file -> its path
    changed_bzl: list[str] = []
    lock_changes: dict[str, tuple[str, lockfile.LockDiff]] = {}

    for change in changes:
        present = [change.path] if change.status != "D" else []
        gone = [change.path] if change.status == "D" else ([change.old_path] if change.old_path else [])
        for path in present:
            label = head_pkgs.label(path)
            if label:
                verb = {"A": "added", "R": "moved here"}.get(change.status, "changed")
                file_seeds[label] = f"{path} {verb}"
            if path.endswith(".bzl"):
                changed_bzl.append(path)
        for path in gone:
            label = base_pkgs.label(path)
            if label:
                deleted[label] = path
                suspects.add(base_pkgs.owner(path))
            if head_pkgs.owner(path) is not None:
                suspects.add(head_pkgs.owner(path))
        for path in present + gone:
            if path.rsplit("/", 1)[-1] in BUILD_NAMES:
                for pkgs in (head_pkgs, base_pkgs):
                    owner = pkgs.owner(path)
                    if owner is not None:
                        suspects.add(owner)
            if path in locks:
                lock_changes[path] = (
                    locks[path],
                    lockfile.diff(_git_bytes_at(repo, base_commit, path), _git_bytes_at(repo, head_commit, path)),
                )
    timings["diff"] = time.monotonic() - t

    # Packages that load a changed .bzl (transitively) are compared too. A .bzl that
    # MODULE.bazel reaches (a module extension, a repository rule) can change external
    # repositories: that is everything.
    if changed_bzl:
        t = time.monotonic()
        loaders = LoadGraph.scan(head_bazel.workspace, head_pkgs, head_module)
        if reached := loaders.reached_from_module(changed_bzl):
            raise _Fallback(f"{reached} changed and MODULE.bazel loads it (extensions or repository rules)")
        suspects |= loaders.packages_loading(changed_bzl)
        timings["loads"] = time.monotonic() - t

    # Lock changes: the wheel targets of exactly the packages whose pins changed.
    wheel_seeds: dict[str, str] = {}
    if lock_changes:
        t = time.monotonic()
        aliases: dict[str, str] = {}
        for lock_path, (hub, ldiff) in lock_changes.items():
            if ldiff.options_changed:
                raise _Fallback(f"{lock_path}: index or pip options changed; every package may resolve differently")
            head_names = set(lockfile.parse(_git_bytes_at(repo, head_commit, lock_path))[0])
            for name, what in ldiff.packages.items():
                if name in head_names:
                    aliases[f"@{hub}//{name}"] = f"{lock_path}: {what}"
        for alias, what in aliases.items():
            for actual in head_bazel.query_labels(f"labels(actual, {_quote(alias)})"):
                wheel_seeds[actual] = what
        timings["lock"] = time.monotonic() - t

    head_suspects = sorted(p for p in suspects if p in head_pkgs.dirs)
    base_suspects = sorted(p for p in suspects if p in base_pkgs.dirs)
    # Suspect packages: their rules' full definitions at both revisions, the two queries side
    # by side (each revision has its own server).
    base_defs: dict[str, Target] = {}
    head_defs: dict[str, Target] = {}
    errors: list[BaseException] = []

    def query_base():
        try:
            t0 = time.monotonic()
            bazel, cache = _checkout_for(cfg, repo, base_commit, "base")
            cached.append(cache)
            base_defs.update(bazel.query(" + ".join(_pattern_all(p) for p in base_suspects)))
            timings["base_query"] = time.monotonic() - t0
        except BaseException as err:  # noqa: BLE001 - re-raised below in the main thread
            errors.append(err)

    worker = None
    if base_suspects:
        worker = threading.Thread(target=query_base)
        worker.start()
    if head_suspects:
        t = time.monotonic()
        head_defs = head_bazel.query(" + ".join(_pattern_all(p) for p in head_suspects))
        timings["head_definitions_query"] = time.monotonic() - t
    if worker:
        worker.join()
    if errors:
        raise errors[0]

    rule_seeds: dict[str, str] = {}
    for label, target in head_defs.items():
        if not (target.is_rule and label.startswith("//")):
            continue
        before = base_defs.get(label)
        if before is None:
            rule_seeds[label] = f"new target {label}"
        elif before.definition != target.definition:
            rule_seeds[label] = f"definition of {label} changed ({_attr_diff(before, target)})"
    for label, before in base_defs.items():
        for gone_label, path in deleted.items():
            if gone_label in before.inputs and label in head_defs:
                rule_seeds.setdefault(label, f"{path} deleted (was an input of {label})")

    # Then one rdeps query over the whole head graph for every seed: changed files, wheels,
    # changed rules. A file is a target only if its BUILD file mentions it (a glob counts), so
    # files go through filter() over their package's targets rather than failing the query.
    # Only tags are printed: the closure needs just the edges (rule inputs) and kinds.
    by_package: dict[str, list[str]] = {}
    for label in file_seeds:
        by_package.setdefault(label[2:].split(":", 1)[0], []).append(label)
    parts = [
        f"filter({_quote('^(' + '|'.join(re.escape(label) for label in labels) + ')$')}, {_quote(f'//{pkg}:*')})"
        for pkg, labels in sorted(by_package.items())
    ]
    extra = list(wheel_seeds) + list(rule_seeds)
    if extra:
        parts.append(f"set({' '.join(_quote(label) for label in extra)})")
    head_targets: dict[str, Target] = {}
    if parts:
        t = time.monotonic()
        head_targets = head_bazel.query_graph(f"rdeps(//..., {' + '.join(parts)})")
        timings["head_query"] = time.monotonic() - t

    t = time.monotonic()
    for label, cause in {**file_seeds, **wheel_seeds, **rule_seeds}.items():
        if label in head_targets:
            seeds.setdefault(label, cause)
    removed = sorted(label for label, b in base_defs.items() if b.is_rule and label not in head_defs)

    affected = _closure(head_targets, seeds)
    for toolchain in registered_toolchains(head_module):
        if toolchain in affected:
            raise _Fallback(
                f"registered toolchain {toolchain} is affected ({seeds[affected[toolchain][-1]]}): "
                "every target that uses it changes"
            )
    targets = []
    for label, path in sorted(affected.items()):
        target = head_targets[label]
        if not (target.is_rule and label.startswith("//")):
            continue
        cats = sorted(kinds.categories(label, target.rule_class, target.tags))
        targets.append(
            AffectedTarget(label, target.rule_class, cats, kinds.is_manual(target.tags), seeds[path[-1]], path)
        )
    timings["closure"] = time.monotonic() - t
    return Result(True, None, "", base_commit, "", changes, targets, removed)


def _attr_diff(before: Target, after: Target) -> str:
    names = sorted(
        name
        for name in set(before.attributes) | set(after.attributes)
        if before.attributes.get(name) != after.attributes.get(name)
    )
    if before.rule_class != after.rule_class:
        names.insert(0, "rule class")
    return ", ".join(n.lstrip("$") for n in names) or "attributes"


def _closure(graph: dict[str, Target], seeds: dict[str, str]) -> dict[str, list[str]]:
    """Every node that reaches a seed, with its shortest path to one (node first, seed last)."""
    reverse: dict[str, list[str]] = {}
    for label, target in graph.items():
        for dep in target.inputs:
            reverse.setdefault(dep, []).append(label)
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for seed in sorted(seeds):
        parent[seed] = None
        queue.append(seed)
    while queue:
        node = queue.popleft()
        for user in reverse.get(node, ()):
            if user not in parent:
                parent[user] = node
                queue.append(user)
    paths: dict[str, list[str]] = {}
    for node in parent:
        path = [node]
        while parent[path[-1]] is not None:
            path.append(parent[path[-1]])
        paths[node] = path
    return paths


def configure_logging(verbose: bool) -> None:
    """Logs go to stderr only; stdout carries data."""
    logger = logging.getLogger("affected")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
