"""The CI pipeline: test, build, push and deploy what a change affects, then summarise.

    bazel run //tools/ci -- --base origin/main                      # pull request: test + build
    bazel run //tools/ci -- --base HEAD~1 --push --deploy           # main: also push and deploy

Steps: the affected set (//tools/affected) -> `bazel test` on the affected tests (run under
coverage.py) -> `bazel build` on the affected images -> `bazel run` of each affected push
target (--push) -> `bazel run //infrastructure:bump` with the pushed digests (--deploy, when
that target exists) -> a markdown summary (what ran, why, how long, coverage) on stdout, in
--summary FILE and appended to $GITHUB_STEP_SUMMARY. Bazel's own output goes to stderr.
Exit status: 0 when every step passed, 1 otherwise, 2 for bad usage.
"""

import argparse
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.affected import kinds
from tools.affected.affected import Config, Result, compute, configure_logging
from tools.affected.bazel import clean_env, default_startup
from tools.affected.render import summary_markdown
from tools.ci import coverage_report, notify

log = logging.getLogger("affected")

BUMP_TARGET = "//infrastructure:bump"


@dataclass
class Step:
    """One step of the pipeline and how it went."""

    name: str
    status: str = "skipped"  # passed, failed, skipped
    seconds: float = 0.0
    detail: str = ""
    command: str = ""


@dataclass
class Pipeline:
    """Runs Bazel commands in the workspace and records each step."""

    workspace: Path
    bazel: str
    startup: list[str]
    flags: list[str]
    steps: list[Step] = field(default_factory=list)

    def bazel_cmd(self, command: str, *args: str) -> list[str]:
        """The full Bazel command line."""
        return [self.bazel, *self.startup, command, *self.flags, *args]

    def run(self, step: Step, cmd: list[str], capture: bool = False) -> subprocess.CompletedProcess:
        """Run ``cmd`` for ``step``: its output goes to stderr (or is captured), its time and status recorded."""
        step.command = shlex.join(cmd)
        log.info("ci: %s: %s", step.name, step.command)
        started = time.monotonic()
        result = subprocess.run(
            cmd, cwd=self.workspace, stdout=subprocess.PIPE if capture else 2, text=True, check=False, env=clean_env()
        )
        step.seconds += time.monotonic() - started
        step.status = "passed" if result.returncode == 0 and step.status != "failed" else "failed"
        return result

    def label_exists(self, label: str) -> bool:
        """Whether a target exists in the workspace."""
        cmd = self.bazel_cmd("query", label, "--output=label")
        result = subprocess.run(cmd, cwd=self.workspace, capture_output=True, text=True, check=False, env=clean_env())
        return result.returncode == 0 and label in result.stdout


def _labels_or_everything(result: Result, kind: str) -> list[str]:
    if result.all_targets_unknown:
        return ["//..."]
    return [t.label for t in result.selected(kind)]


def _service_name(push_label: str) -> str:
    """The service a push target belongs to: its package's last directory (//services/api:push -> api)."""
    return push_label[2:].split(":", 1)[0].rsplit("/", 1)[-1]


def run_pipeline(args: argparse.Namespace) -> tuple[int, str]:
    """Run every step; returns (exit code, markdown summary)."""
    cwd = Path(os.environ.get("BUILD_WORKING_DIRECTORY") or os.getcwd())
    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or cwd) if not args.workspace else cwd / args.workspace
    startup = args.startup if args.startup is not None else default_startup(workspace)
    pipe = Pipeline(workspace, args.bazel, list(startup), list(args.flags))
    started = time.monotonic()

    select = Step("affected targets")
    t = time.monotonic()
    cfg = Config(
        workspace=workspace,
        base=args.base,
        head=args.head,
        bazel=args.bazel,
        startup=args.startup,
        flags=args.flags,
        cache_root=(cwd / args.cache_dir) if args.cache_dir else None,
    )
    result = compute(cfg)
    select.seconds = time.monotonic() - t
    select.status = "passed"
    select.detail = (
        f"{len(result.targets)} affected from {len(result.changes)} changed file(s)"
        if result.exact
        else f"EVERYTHING: {result.reason}"
    )
    select.command = f"bazel run //tools/affected -- --base {args.base or '(merge-base)'}"
    pipe.steps.append(select)

    # Tests, under coverage.py.
    tests = _labels_or_everything(result, kinds.TEST)
    test_step = Step("test")
    pipe.steps.append(test_step)
    coverage_md = ""
    if tests:
        test_args = ["--build_tests_only", "--nozip_undeclared_test_outputs"]
        if args.coverage:
            test_args.append("--test_env=MLOPS_PYTEST_COVERAGE=1")
        with tempfile.NamedTemporaryFile("w", suffix=".targets", delete=False) as pf:
            pf.write("\n".join(tests) + "\n")
        try:
            pipe.run(test_step, pipe.bazel_cmd("test", *test_args, f"--target_pattern_file={pf.name}"))
        finally:
            os.unlink(pf.name)
        test_step.detail = f"{len(tests)} test target(s)"
        if args.coverage:
            testlogs = Path(
                pipe.run(Step("info"), pipe.bazel_cmd("info", "bazel-testlogs"), capture=True).stdout.strip()
            )
            coverage_md = coverage_report.markdown(testlogs, tests, workspace)
    else:
        test_step.detail = "no affected tests"

    # Images.
    images = _labels_or_everything(result, kinds.IMAGE) if not result.all_targets_unknown else []
    image_step = Step("build images")
    pipe.steps.append(image_step)
    if images:
        pipe.run(image_step, pipe.bazel_cmd("build", *images))
        image_step.detail = ", ".join(f"`{i}`" for i in images)
    else:
        image_step.detail = "no affected images"

    # Other affected build targets are built by `bazel test` only when tests need them: build them too.
    builds = [label for label in _labels_or_everything(result, kinds.BUILD) if label not in images]
    build_step = Step("build")
    pipe.steps.append(build_step)
    if builds:
        with tempfile.NamedTemporaryFile("w", suffix=".targets", delete=False) as pf:
            pf.write("\n".join(builds) + "\n")
        try:
            pipe.run(build_step, pipe.bazel_cmd("build", f"--target_pattern_file={pf.name}"))
        finally:
            os.unlink(pf.name)
        build_step.detail = f"{len(builds)} target(s)"
    else:
        build_step.detail = "nothing else to build"

    # Push, only when everything before passed.
    pushed: dict[str, str] = {}
    push_step = Step("push")
    pipe.steps.append(push_step)
    failed_so_far = any(s.status == "failed" for s in pipe.steps)
    pushes = [] if result.all_targets_unknown else [t.label for t in result.selected(kinds.PUSH)]
    if not args.push:
        push_step.detail = "not requested (--push)"
    elif failed_so_far:
        push_step.detail = "not run: an earlier step failed"
    elif not pushes:
        push_step.detail = "no affected push targets"
    else:
        for label in pushes:
            out = pipe.run(push_step, pipe.bazel_cmd("run", label), capture=True)
            ref = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
            if ref:
                pushed[_service_name(label)] = ref
        registry = os.environ.get("REGISTRY") or "the embedded local registry"
        push_step.detail = f"to {registry}: " + ", ".join(f"{k}={v}" for k, v in pushed.items())

    # Deploy: pin the pushed digests in the manifests.
    deploy_step = Step("deploy")
    pipe.steps.append(deploy_step)
    if not args.deploy:
        deploy_step.detail = "not requested (--deploy)"
    elif push_step.status == "failed" or any(s.status == "failed" for s in pipe.steps[:-2]):
        deploy_step.detail = "not run: an earlier step failed"
    elif not pushed:
        deploy_step.detail = "nothing pushed, nothing to deploy"
    elif not pipe.label_exists(BUMP_TARGET):
        deploy_step.detail = f"{BUMP_TARGET} does not exist in this workspace"
    else:
        extra = ["--overlay", args.overlay] if args.overlay else []
        pipe.run(
            deploy_step, pipe.bazel_cmd("run", BUMP_TARGET, "--", *[f"{k}={v}" for k, v in pushed.items()], *extra)
        )
        deploy_step.detail = ", ".join(pushed)

    total = time.monotonic() - started
    failed = [s for s in pipe.steps if s.status == "failed"]
    md = _summary(pipe.steps, result, total, coverage_md, failed)
    return (1 if failed else 0), md


def _summary(steps: list[Step], result: Result, total: float, coverage_md: str, failed: list[Step]) -> str:
    verdict = "failed: " + ", ".join(s.name for s in failed) if failed else "passed"
    lines = [
        f"# CI: {verdict}",
        "",
        f"Total {total:.1f} s.",
        "",
        "| Step | Status | Time | Detail |",
        "| --- | --- | --- | --- |",
    ]
    icons = {"passed": "passed", "failed": "**FAILED**", "skipped": "skipped"}
    for s in steps:
        if s.name == "info":
            continue
        lines.append(f"| {s.name} | {icons[s.status]} | {s.seconds:.1f} s | {s.detail.replace('|', '/')} |")
    lines.append("")
    lines.append("<details><summary>Commands</summary>\n")
    lines += [f"- `{s.command}`" for s in steps if s.command and s.name != "info"]
    lines.append("\n</details>\n")
    md = "\n".join(lines) + "\n" + summary_markdown(result, kinds.ALL)
    if coverage_md:
        md += "\n" + coverage_md
    return md


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
    return p


def main(argv: list[str]) -> int:
    """Run the CLI."""
    args = build_parser().parse_args(argv)
    configure_logging(False)
    code, md = run_pipeline(args)
    sys.stdout.write(md)
    if args.summary:
        Path(os.environ.get("BUILD_WORKING_DIRECTORY") or os.getcwd(), args.summary).write_text(md)
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a", encoding="utf-8") as f:
            f.write(md)
    notify.notify_summary(md, code)  # when $MLOPS_CI_WEBHOOK_URL is set; never changes `code`
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
