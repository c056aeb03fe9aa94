"""From a git diff to exactly the Bazel targets it affects, each with the reason why.

How a change becomes a set of targets (each step a function of seeds.py or graph.py):

* Every changed file that is a label in the head graph is a seed (sources, data, tools).
* Packages whose BUILD file changed, that gained or lost a BUILD file below them, that held
  a deleted file, or that load a changed .bzl file are "suspect": their rules are compared
  attribute by attribute with the same package at the base revision (checked out into a
  cached git worktree). A rule whose definition differs, or that is new, is a seed; a
  comment or a reformatting changes nothing. Rules that consumed a deleted file are seeds.
* A lock-file change seeds the wheel targets of exactly the packages whose pins changed;
  wheels depend on each other directly, so their users are found through other wheels too.
* The head graph is the base revision's whole graph (``deps(//...)``, cached on disk per
  commit, see base_cache.py) with the suspect packages and those that gained a file replaced
  by their head versions; only those packages are queried on each run. After a lock edit, or
  a change outside every package (a local repository), one ``rdeps`` query over the head
  gives the graph instead.
* Files that can change every target's configuration (MODULE.bazel, .bazelrc,
  .bazelversion, ...) give the answer "everything", said as such, except a .bazelrc edit that
  touches only comments and options that change no output (bazelrc.py: --jobs, --keep_going,
  --lockfile_mode, ...) or a MODULE.bazel edit of comments only, which select nothing, and a
  MODULE.bazel edit that only defines external repositories (module_file.py: a repository
  rule's call, a pip.parse tag), answered below; so do the files MODULE.bazel
  names as labels other than the locks (the interpreter pip.parse runs, a patch) and
  the .bzl files it loads: a module extension reads them while it creates the external
  repositories.
* For such a named file other than a .bzl, or such a MODULE.bazel edit, both revisions'
  whole graphs are queried (which fetches their repositories) and what came out is compared
  (repositories.py): the source files whose bytes differ and the rules whose definition or
  inputs differ are seeds, as Bazel re-runs only what sees different bytes; a repository's
  differing .bzl gives "everything".

The affected set is every target in the head graph from which a seed is reachable, computed
in Python. Any failure gives "everything" with the reason, never a silent empty set.
"""

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tools.affected import bazelrc, lockfile, module_file, repositories
from tools.affected.base_cache import BaseCache, binary_identity
from tools.affected.bazel import Bazel, BazelError
from tools.affected.checkout import CachedCheckout, CheckoutError, cache_dir_for
from tools.affected.graph import affected_targets, everything
from tools.affected.packages import LoadGraph, Packages, registered_toolchains
from tools.affected.query_output import Target
from tools.affected.result import Config, Fallback, Result
from tools.affected.revisions import file_at, resolve_base, resolve_head, toplevel
from tools.affected.seeds import (
    classify,
    global_trigger,
    lock_edit,
    module_reference_trigger,
    package_pattern,
    rdeps_universe_expression,
    removed_rules,
    rule_seeds,
    splice,
    wheel_seeds,
)
from tools.bazel_client import default_startup
from tools.gitdiff import Change, GitError, changed_files

log = logging.getLogger("affected")

# What makes the exact computation give up: each becomes an "everything" answer with its message.
_FAILURES = (Fallback, BazelError, CheckoutError, GitError, ValueError, OSError)


class _Timings:
    """Seconds per step, for the answer's ``timings``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - started


@dataclass(frozen=True)
class _Revisions:
    """The two sides of the comparison, resolved, with what git says about each."""

    repo: Path
    base_name: str
    base_commit: str
    head_name: str
    head_commit: str | None
    changes: list[Change]
    base_packages: Packages
    head_packages: Packages
    head_module: str
    module_edit: module_file.ModuleEdit | None


class _BaseServer:
    """The Bazel of the base checkout, checked out and started on first use (most runs never need it)."""

    def __init__(self, cfg: Config, revs: _Revisions, checkouts: ExitStack):
        self._cfg, self._revs, self._checkouts = cfg, revs, checkouts
        self._bazel: Bazel | None = None
        self._lock = threading.Lock()

    def get(self) -> Bazel:
        with self._lock:
            if self._bazel is None:
                self._bazel = _bazel_for(self._cfg, self._revs.repo, self._revs.base_commit, "base", self._checkouts)
            return self._bazel


@dataclass(frozen=True)
class _Context:
    """What every step of one exact computation shares."""

    cfg: Config
    revs: _Revisions
    checkouts: ExitStack
    timings: _Timings
    base_server: _BaseServer


@dataclass(frozen=True)
class _Queries:
    """What to ask Bazel about each revision.

    Attributes:
        base: suspect packages at the base (their rule definitions).
        head: packages to read at the head (suspects, plus those that gained a file).
        whole_base_graph: also the base's whole graph (to splice the head's packages into).
    """

    base: list[str]
    head: list[str]
    whole_base_graph: bool


@dataclass
class _BaseAnswers:
    """What the base revision said."""

    definitions: dict[str, Target]
    graph: dict[str, Target]


def compute(cfg: Config) -> Result:
    """Compute the affected targets between two revisions.

    Args:
        cfg: what to compare and how to run Bazel.

    Returns:
        The affected targets with reasons; on any error an explicit "everything" answer.
    """
    started = time.monotonic()
    timings = _Timings()
    try:
        repo = toplevel(cfg.workspace)
    except (GitError, OSError) as err:
        return _everything(cfg, cfg.workspace, None, f"not a git repository: {err}")
    try:
        with timings.step("git"):
            revs = _resolve(cfg, repo)
    except (GitError, ValueError, OSError) as err:
        return _everything(cfg, repo, None, str(err))
    if trigger := global_trigger(revs.changes, lambda change: _edit_is_not_global(revs, change)):
        result = _everything(cfg, repo, None, f"{trigger} changed: it can change every target's configuration", revs)
        result.head = revs.head_name
        return result
    head_bazel = None
    with ExitStack() as checkouts:
        try:
            head_bazel = _bazel_for(cfg, repo, revs.head_commit, "head", checkouts)
            ctx = _Context(cfg, revs, checkouts, timings, _BaseServer(cfg, revs, checkouts))
            result = _compute_exact(ctx, head_bazel)
        except _FAILURES as err:
            result = _everything(cfg, repo, head_bazel, str(err), revs)
    result.base, result.base_commit, result.head = revs.base_name, revs.base_commit, revs.head_name
    timings.seconds["total"] = time.monotonic() - started
    result.timings = {k: round(v, 3) for k, v in timings.seconds.items()}
    return result


def _edit_is_not_global(revs: _Revisions, change: Change) -> bool:
    """Whether a changed .bazelrc or MODULE.bazel leaves most targets alone (see global_trigger)."""
    if change.path == "MODULE.bazel":
        return revs.module_edit is not None and revs.module_edit.kind != module_file.EVERYTHING
    base_text = "" if change.status == "A" else file_at(revs.repo, revs.base_commit, change.path)
    head_text = "" if change.status == "D" else file_at(revs.repo, revs.head_commit, change.path)
    return bazelrc.edit_is_inert(base_text, head_text)


def _module_edit(
    repo: Path, base_commit: str, head_module: str, changes: list[Change]
) -> module_file.ModuleEdit | None:
    """The judgement on MODULE.bazel's edit; None when it did not change in place (unchanged, added, moved)."""
    if not any(change.path == "MODULE.bazel" and change.status == "M" for change in changes):
        return None
    return module_file.classify_edit(file_at(repo, base_commit, "MODULE.bazel"), head_module)


def _resolve(cfg: Config, repo: Path) -> _Revisions:
    base_name, base_commit = resolve_base(repo, cfg.base)
    head_commit = resolve_head(repo, cfg.head)
    # Independent git reads, each its own process: side by side.
    with ThreadPoolExecutor(max_workers=3) as pool:
        changed = pool.submit(changed_files, repo, base_commit, head_commit)
        base_packages = pool.submit(Packages.at, repo, base_commit)
        head_module = pool.submit(file_at, repo, head_commit, "MODULE.bazel")
        changes = changed.result()
        # The working tree's untracked files are among the diff's additions (tracked ones too: harmless).
        added = [c.path for c in changes if c.status == "A"] if head_commit is None else []
        head_packages = Packages.at(repo, head_commit, added)
        module_edit = _module_edit(repo, base_commit, head_module.result(), changes)
        return _Revisions(
            repo,
            base_name,
            base_commit,
            cfg.head or "working tree",
            head_commit,
            changes,
            base_packages.result(),
            head_packages,
            head_module.result(),
            module_edit,
        )


@contextlib.contextmanager
def base_checkout(cfg: Config, commit: str) -> Iterator[Bazel]:
    """A Bazel in the cached base checkout holding ``commit``: the one (and the output base) the affected set used.

    Building there is cached across runs like its queries are; the checkout stays locked
    until the block ends.

    Raises:
        CheckoutError: when the commit cannot be checked out.
    """
    with ExitStack() as checkouts:
        yield _bazel_for(cfg, toplevel(cfg.workspace), commit, "base", checkouts)


def _bazel_for(cfg: Config, repo: Path, commit: str | None, slot: str, checkouts: ExitStack) -> Bazel:
    """A Bazel for a revision: the user's workspace for the working tree, else a cached checkout."""
    if commit is None:
        startup = cfg.startup if cfg.startup is not None else default_startup(repo)
        return Bazel(cfg.bazel, repo, list(startup), list(cfg.flags))
    cached = CachedCheckout(repo, cache_dir_for(repo, cfg.cache_root), slot)
    checkouts.callback(cached.close)
    workdir = cached.checkout(commit)
    startup = list(cfg.startup) if cfg.startup is not None else default_startup(workdir)
    startup.append(f"--output_base={cached.output_base}")
    if not any(flag.startswith("--max_idle_secs") for flag in startup):
        # A helper server must not hold its memory for hours after the run.
        startup.append(f"--max_idle_secs={cfg.helper_idle_secs}")
    return Bazel(cfg.bazel, workdir, startup, list(cfg.flags))


def _everything(cfg: Config, repo: Path, head: Bazel | None, reason: str, revs: _Revisions | None = None) -> Result:
    """The conservative answer: every target at the head, with the reason."""
    log.warning("affected: everything (%s)", reason)
    targets = []
    unknown = False
    try:
        with ExitStack() as checkouts:
            bazel = head or _bazel_for(cfg, repo, None, "head", checkouts)
            targets = everything(bazel.query("kind(rule, //...)", "--proto:output_rule_attrs=tags"), reason)
    except (BazelError, OSError) as err:
        log.error("affected: could not list the targets either: %s", err)
        unknown = True
    base, base_commit, changes = (revs.base_name, revs.base_commit, revs.changes) if revs else ("", "", [])
    return Result(False, reason, base, base_commit, "", list(changes), targets, all_targets_unknown=unknown)


def _compute_exact(ctx: _Context, head: Bazel) -> Result:
    """The exact answer, step by step; raises one of _FAILURES when it cannot be exact."""
    cfg, revs, timings = ctx.cfg, ctx.revs, ctx.timings
    head_pkgs, base_pkgs, head_module = revs.head_packages, revs.base_packages, revs.head_module
    with timings.step("diff"):
        locks = cfg.locks if cfg.locks is not None else lockfile.pip_hubs(head_module)
        # Why the repositories must be fetched at both revisions and compared, if they must.
        refetch_reason = None
        if named := module_reference_trigger(revs.changes, head_module, frozenset(locks)):
            refetch_reason = f"{named} changed and MODULE.bazel names it"
        elif revs.module_edit and revs.module_edit.kind == module_file.REPOSITORIES:
            refetch_reason = "MODULE.bazel's repository definitions changed"
        changeset = classify(revs.changes, head_pkgs, base_pkgs, locks)

    # Before any fetch: a .bzl that MODULE.bazel loads makes the answer "everything" anyway.
    suspects = set(changeset.suspects)
    if changeset.changed_bzl:
        with timings.step("loads"):
            loaders = LoadGraph.scan(head.workspace, head_pkgs, head_module)
            suspects |= _packages_loading(list(changeset.changed_bzl), loaders)

    # The head's whole graph, when the repositories had to be compared.
    head_graph: dict[str, Target] | None = None
    refetched: dict[str, str] = {}
    if refetch_reason:
        with timings.step("repositories"):
            head_graph, refetched = _changed_repositories(ctx, head, refetch_reason)

    wheels: dict[str, str] = {}
    if changeset.locks:
        with timings.step("lock"):
            edits = [
                lock_edit(
                    path, hub, file_at(revs.repo, revs.base_commit, path), file_at(revs.repo, revs.head_commit, path)
                )
                for path, hub in changeset.locks.items()
            ]
            wheels = wheel_seeds(edits, head.query_labels)

    spliced = head_graph is None and not changeset.locks and not changeset.unowned
    if spliced and not cfg.compute_base_graph:
        spliced = _base_cache(ctx).has("graph", revs.base_commit, _WHOLE_GRAPH)
    read_at_head = suspects | changeset.gained_files if spliced else suspects
    queries = _Queries(
        base=sorted(p for p in suspects if p in base_pkgs.dirs),
        head=sorted(p for p in read_at_head if p in head_pkgs.dirs),
        # No file seed and no suspect package: no seed at all, no graph needed.
        whole_base_graph=spliced and bool(changeset.file_seeds or read_at_head),
    )
    base, head_targets = _query_both(ctx, head, queries)
    head_defs = {label: t for label, t in head_targets.items() if t.package in suspects}
    rules = rule_seeds(base.definitions, head_defs, changeset.deleted)

    graph: dict[str, Target] = {}
    if head_graph is not None:
        graph = head_graph
    elif queries.whole_base_graph:
        with timings.step("splice"):
            graph = splice(base.graph, head_targets, read_at_head | suspects)
    elif expression := rdeps_universe_expression(changeset.file_seeds, list(wheels) + list(rules)):
        with timings.step("head_query"):
            graph = head.query_graph(expression)

    with timings.step("closure"):
        causes = {**changeset.file_seeds, **wheels, **rules, **refetched}
        seeds = {label: cause for label, cause in causes.items() if label in graph}
        targets = affected_targets(graph, seeds, registered_toolchains(head_module))
    removed = removed_rules(base.definitions, head_defs)
    return Result(True, None, "", revs.base_commit, "", revs.changes, targets, removed)


def _changed_repositories(ctx: _Context, head: Bazel, reason: str) -> tuple[dict[str, Target], dict[str, str]]:
    """(the head's whole graph, {label: cause} for every target Bazel sees differently after the refetch).

    Both revisions' ``deps(//...)`` is queried by their own server, side by side: the query
    fetches every repository the graph reaches, into each revision's output base.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        base, head_side = pool.map(_fetched, [ctx.base_server.get(), head])
    changed = repositories.changed_targets(base, head_side)
    log.info("affected: %s; %d targets of the refetched repositories differ from the base's", reason, len(changed))
    seeds = {label: f"{why} ({reason})" for label, why in changed.items()}
    return head_side.graph, seeds


def _fetched(bazel: Bazel) -> repositories.FetchedRevision:
    """One revision's whole graph, which fetches its repositories, and where they are."""
    graph = bazel.query(_WHOLE_GRAPH)  # with definitions: a refetched wheel's BUILD may define the same rules
    return repositories.FetchedRevision(
        bazel.workspace, bazel.output_base() / "external", graph, bazel.repository_mapping()
    )


def _packages_loading(changed_bzl: list[str], loaders: LoadGraph) -> set[str]:
    """Packages that load a changed .bzl (transitively).

    Raises:
        Fallback: when MODULE.bazel reaches one (a module extension, a repository rule): that can
            change external repositories, so everything.
    """
    if reached := loaders.reached_from_module(changed_bzl):
        raise Fallback(f"{reached} changed and MODULE.bazel loads it (extensions or repository rules)")
    return loaders.packages_loading(changed_bzl)


def _query_both(ctx: _Context, head: Bazel, queries: _Queries) -> tuple[_BaseAnswers, dict[str, Target]]:
    """The base's answers (from the cache, else its own server) and the head's, side by side."""
    base = _BaseAnswers({}, {})
    errors: list[BaseException] = []

    def ask_base() -> None:
        try:
            base.definitions, base.graph = _ask_base(ctx, queries)
        except BaseException as err:  # noqa: BLE001 - re-raised below in the main thread
            errors.append(err)

    worker = None
    if queries.base or queries.whole_base_graph:
        worker = threading.Thread(target=ask_base)
        worker.start()
    head_targets: dict[str, Target] = {}
    if queries.head:
        with ctx.timings.step("head_definitions_query"):
            patterns = (package_pattern(p, files=queries.whole_base_graph) for p in queries.head)
            head_targets = head.query(" + ".join(patterns))
    if worker:
        worker.join()
    if errors:
        raise errors[0]
    return base, head_targets


_WHOLE_GRAPH = "deps(//...)"


def _base_cache(ctx: _Context) -> BaseCache:
    """The base-result cache for this repository and this way of running Bazel."""
    cfg = ctx.cfg
    salt = [binary_identity(cfg.bazel), cfg.startup, cfg.flags, os.environ.get("MLOPS_IN_BUILDROOT")]
    return BaseCache(cache_dir_for(ctx.revs.repo, cfg.cache_root) / "results", salt)


def _ask_base(ctx: _Context, queries: _Queries) -> tuple[dict[str, Target], dict[str, Target]]:
    """(suspect definitions, whole graph or {}) at the base; the base checkout's server only on a cache miss."""
    revs, base_bazel = ctx.revs, ctx.base_server.get
    cache = _base_cache(ctx)
    definitions: dict[str, Target] = {}
    graph: dict[str, Target] = {}
    if queries.base:
        expression = " + ".join(package_pattern(p) for p in queries.base)
        with ctx.timings.step("base_query"):
            definitions, hit = cache.get_or_compute(
                "definitions", revs.base_commit, expression, lambda: base_bazel().query(expression)
            )
        log.debug("affected: base definitions %s", "from the cache" if hit else "queried")
    if queries.whole_base_graph:
        with ctx.timings.step("base_graph"):
            graph, hit = cache.get_or_compute(
                "graph", revs.base_commit, _WHOLE_GRAPH, lambda: base_bazel().query_graph(_WHOLE_GRAPH)
            )
        log.debug("affected: base graph %s (%d targets)", "from the cache" if hit else "queried", len(graph))
    return definitions, graph
