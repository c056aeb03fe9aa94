"""Print the Bazel targets affected by a git change.

    bazel run //tools/affected -- --base origin/main
    bazel run //tools/affected -- --base HEAD~1 --head HEAD --format json --kind all

stdout carries only the answer (labels, JSON or GitHub outputs); every log goes to stderr.
Exit status 0 also for an "everything" answer (it is a valid answer, said as such on stderr
and in JSON); 2 for bad usage.
"""

import argparse
import logging
import os
import sys
from pathlib import Path

from tools.affected.api import Config, compute, configure_logging, kinds, summary_markdown
from tools.affected.render import as_github_outputs, as_json, as_text
from tools.user_paths import user_path, working_directory

log = logging.getLogger("affected")


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="affected",
        description="List the Bazel targets a git change affects: changed sources and data, BUILD and .bzl "
        "edits compared definition by definition, deleted and moved files, lock-file pins, with reverse "
        "dependencies. MODULE.bazel/.bazelrc/.bazelversion changes and any error give an explicit "
        "'everything' answer.",
    )
    p.add_argument("--base", help="base revision (default: the merge-base of HEAD with origin/main or main)")
    p.add_argument("--head", help="head revision (default: the working tree, uncommitted and untracked files included)")
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text: labels, one per line; json: targets with kind and why; github: $GITHUB_OUTPUT lines "
        "(and a job-summary table appended to $GITHUB_STEP_SUMMARY when set)",
    )
    p.add_argument(
        "--kind",
        choices=kinds.KINDS,
        default=kinds.ALL,
        help="which targets: test, build (non-test rules), image, push, or all (manual ones included)",
    )
    p.add_argument("--workspace", help="the workspace (default: $BUILD_WORKSPACE_DIRECTORY under bazel run, else cwd)")
    p.add_argument(
        "--bazel", default=os.environ.get("BAZEL", "bazel"), help="bazel executable (default: $BAZEL or bazel)"
    )
    p.add_argument(
        "--startup-flag",
        action="append",
        dest="startup",
        metavar="FLAG",
        help="Bazel startup option (repeatable); default: what tools/bazel uses",
    )
    p.add_argument(
        "--query-flag",
        action="append",
        dest="flags",
        default=[],
        metavar="FLAG",
        help="extra option for every bazel query (repeatable), e.g. --query-flag=--registry=file:///r",
    )
    p.add_argument(
        "--cache-dir",
        help="where cached base/head worktrees and their output bases live "
        "(default: $MLOPS_AFFECTED_CACHE or ~/.cache/mlops-affected)",
    )
    p.add_argument(
        "--lock",
        action="append",
        metavar="PATH=HUB",
        help="a requirements lock and its pip hub (repeatable); default: read pip.parse in MODULE.bazel",
    )
    p.add_argument(
        "--cached-base-only",
        dest="compute_base_graph",
        action="store_false",
        help="on a base-cache miss, query rdeps over the head instead of the base's whole graph (no base server: "
        "cheaper for a one-off run on a fresh machine; later runs on the same base then get no faster)",
    )
    p.add_argument("--output", help="write the answer to this file instead of stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="log every Bazel command")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """A Config from parsed arguments, resolving paths the way ``bazel run`` users expect."""
    cwd = working_directory()
    default_workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or cwd)
    workspace = cwd / args.workspace if args.workspace else default_workspace
    locks = None
    if args.lock:
        locks = {}
        for item in args.lock:
            path, sep, hub = item.partition("=")
            if not sep:
                raise SystemExit(f"affected: --lock wants PATH=HUB, got {item!r}")
            locks[path] = hub
    return Config(
        workspace=workspace,
        base=args.base,
        head=args.head,
        bazel=args.bazel,
        startup=args.startup,
        flags=args.flags,
        cache_root=(cwd / args.cache_dir) if args.cache_dir else None,
        locks=locks,
        compute_base_graph=args.compute_base_graph,
    )


def main(argv: list[str]) -> int:
    """Run the CLI."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    result = compute(config_from_args(args))
    if args.format == "json":
        out = as_json(result, args.kind)
    elif args.format == "github":
        out = as_github_outputs(result, args.kind)
        if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(summary, "a", encoding="utf-8") as f:
                f.write(summary_markdown(result, args.kind))
    else:
        out = as_text(result, args.kind)
    selected = result.selected(args.kind)
    if result.exact:
        log.info(
            "affected: %d %s target(s) from %d changed file(s) in %.2f s",
            len(selected),
            args.kind,
            len(result.changes),
            result.timings.get("total", 0),
        )
    else:
        log.info("affected: EVERYTHING (%s)", result.reason)
    manual = [t.label for t in result.targets if t.manual and kinds.matches(args.kind, set(t.categories))]
    if manual and args.kind != kinds.ALL:
        log.info("affected: tagged manual, not selected: %s", " ".join(manual))
    if args.output:
        user_path(args.output).write_text(out)
    else:
        sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
