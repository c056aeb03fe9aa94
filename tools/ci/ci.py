"""The CI pipeline's command line: test, build, push and deploy what a change affects, then summarise.

    bazel run //tools/ci -- --base origin/main                      # pull request: test + build
    bazel run //tools/ci -- --base HEAD~1 --push --deploy           # main: also push and deploy

Steps (tools/ci/pipeline.py): the affected set (//tools/affected) -> one `bazel test` on the
affected tests (run under coverage.py), images and other targets -> the model report when
//model:model is affected (//model:report at the base and the head, compared into model-report/)
-> `bazel run`
of each affected push target (--push) -> `bazel run //infrastructure:bump` with the pushed
digests (--deploy, when that target exists) -> a markdown summary (what ran, why, how long,
coverage) on stdout, in --summary FILE and appended to $GITHUB_STEP_SUMMARY. Bazel's own
output goes to stderr. Exit status: 0 when every step passed, 1 otherwise, 2 for bad usage.
"""

import argparse
import os
import sys
from pathlib import Path

from tools.affected.api import configure_logging
from tools.ci import notify, summary
from tools.ci.pipeline import BUMP_TARGET, REPORT_DIR, Options, run_pipeline
from tools.cli_logging import configure
from tools.user_paths import user_path, working_directory


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="ci", description=__doc__.split("\n\n")[0])
    p.add_argument("--base", help="base revision (default: merge-base of HEAD with origin/main or main)")
    p.add_argument("--head", help="head revision (default: the working tree)")
    p.add_argument(
        "--push", action="store_true", help="push the affected images (REGISTRY, else the embedded registry)"
    )
    p.add_argument("--deploy", action="store_true", help=f"pin pushed digests in the manifests via {BUMP_TARGET}")
    p.add_argument("--overlay", help="the kustomize overlay the deploy step bumps (default: the bump tool's)")
    p.add_argument("--no-coverage", dest="coverage", action="store_false", help="run tests without coverage.py")
    p.add_argument("--summary", help="also write the markdown summary to this file")
    p.add_argument("--workspace", help="the workspace (default: $BUILD_WORKSPACE_DIRECTORY)")
    p.add_argument("--bazel", default=os.environ.get("BAZEL", "bazel"), help="bazel executable")
    p.add_argument("--startup-flag", action="append", dest="startup", metavar="FLAG", help="Bazel startup option")
    p.add_argument("--bazel-flag", action="append", dest="flags", default=[], metavar="FLAG",
                   help="option for every Bazel command (repeatable)")  # fmt: skip
    p.add_argument("--cache-dir", help="cache for the affected tool's base worktree")
    p.add_argument("--model-report", help=f"where the model report goes (default: {REPORT_DIR}/ in the workspace)")
    return p


def options_from_args(args: argparse.Namespace) -> Options:
    """Options from parsed arguments, resolving paths the way ``bazel run`` users expect."""
    cwd = working_directory()
    workspace = cwd / args.workspace if args.workspace else Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or cwd)
    return Options(
        workspace=workspace,
        base=args.base,
        head=args.head,
        bazel=args.bazel,
        startup=args.startup,
        flags=list(args.flags),
        cache_dir=(cwd / args.cache_dir) if args.cache_dir else None,
        push=args.push,
        deploy=args.deploy,
        overlay=args.overlay,
        coverage=args.coverage,
        report_dir=(cwd / args.model_report) if args.model_report else None,
    )


def main(argv: list[str]) -> int:
    """Run the CLI."""
    args = build_parser().parse_args(argv)
    configure("ci")
    configure_logging()
    run = run_pipeline(options_from_args(args))
    md = summary.markdown(run)
    sys.stdout.write(md)
    if args.summary:
        user_path(args.summary).write_text(md)
    if step_summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(md)
    code = 1 if run.failed else 0
    notify.notify_summary(md, code)  # when $MLOPS_CI_WEBHOOK_URL is set; never changes `code`
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
