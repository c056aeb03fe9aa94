"""The affected tool's public types: what to compare (Config) and the answer (Result, AffectedTarget)."""

from dataclasses import dataclass, field
from pathlib import Path

from tools.affected import kinds
from tools.gitdiff import Change


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
        cache_root: where cached worktrees, output bases and base results live.
        locks: {lock path: pip hub name}; None means read pip.parse from MODULE.bazel.
        helper_idle_secs: how long the Bazel servers of cached checkouts (base, and head when
            it is a commit) stay up after their last query, unless ``startup`` sets
            ``--max_idle_secs`` itself.
        compute_base_graph: on a base-cache miss, query the base's whole graph (one base
            server start and ``deps(//...)`` there, so later runs on that base are fast);
            False: use the cached graph only when present, else one ``rdeps`` query over the
            head (cheaper for a one-off run on a fresh machine).
    """

    workspace: Path
    base: str | None = None
    head: str | None = None
    bazel: str = "bazel"
    startup: list[str] | None = None
    flags: list[str] = field(default_factory=list)
    cache_root: Path | None = None
    locks: dict[str, str] | None = None
    helper_idle_secs: int = 60
    compute_base_graph: bool = True


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
        base: the base revision as given.
        base_commit: the commit the base resolved to.
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

    def labels(self, kind: str) -> list[str]:
        """The selected labels of ``kind``; ``["//..."]`` when everything is affected but could not be listed."""
        if self.all_targets_unknown:
            return ["//..."]
        return [t.label for t in self.selected(kind)]


class Fallback(Exception):
    """Abandon the exact computation: the answer is everything, for this reason."""
