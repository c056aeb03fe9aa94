"""The affected set: every head target from which a seed is reachable, with its path to the seed."""

from collections import deque

from tools.affected import kinds
from tools.affected.query_output import Target
from tools.affected.result import AffectedTarget, Fallback


def closure(graph: dict[str, Target], seeds: dict[str, str]) -> dict[str, list[str]]:
    """Every node that reaches a seed, with its shortest path to one (node first, seed last)."""
    reverse: dict[str, list[str]] = {}
    for label, target in graph.items():
        for dep in target.inputs:
            reverse.setdefault(dep, []).append(label)
    # Breadth-first from the seeds: a node's path is itself followed by its parent's path, and
    # the parent's path is complete before the node is reached, so each path is one list copy.
    paths: dict[str, list[str]] = {}
    queue: deque[str] = deque()
    for seed in sorted(seeds):
        paths[seed] = [seed]
        queue.append(seed)
    while queue:
        node = queue.popleft()
        tail = paths[node]
        for user in reverse.get(node, ()):
            if user not in paths:
                paths[user] = [user, *tail]
                queue.append(user)
    return paths


def affected_targets(graph: dict[str, Target], seeds: dict[str, str], toolchains: list[str]) -> list[AffectedTarget]:
    """The main-repository rules that reach a seed, sorted by label, each with its cause and path.

    Args:
        graph: the head graph around the seeds (the rdeps query's answer).
        seeds: label -> cause, each a node of ``graph``.
        toolchains: main-repository toolchains registered in MODULE.bazel.

    Raises:
        Fallback: when a registered toolchain is affected (every target that uses it changes).
    """
    affected = closure(graph, seeds)
    for toolchain in toolchains:
        if toolchain in affected:
            raise Fallback(
                f"registered toolchain {toolchain} is affected ({seeds[affected[toolchain][-1]]}): "
                "every target that uses it changes"
            )
    targets = []
    for label, path in sorted(affected.items()):
        target = graph[label]
        if not (target.is_rule and label.startswith("//")):
            continue
        cats = sorted(kinds.categories(label, target.rule_class, target.tags))
        targets.append(
            AffectedTarget(label, target.rule_class, cats, kinds.is_manual(target.tags), seeds[path[-1]], path)
        )
    return targets


def everything(targets: dict[str, Target], reason: str) -> list[AffectedTarget]:
    """Every listed rule as affected, for ``reason``."""
    found = []
    for t in sorted(targets.values(), key=lambda t: t.label):
        cats = sorted(kinds.categories(t.label, t.rule_class, t.tags))
        found.append(AffectedTarget(t.label, t.rule_class, cats, kinds.is_manual(t.tags), f"everything: {reason}", []))
    return found
