"""The CI pipeline's steps: affected set, tests, images, builds, push, deploy; each records how it went.

``run_pipeline(options)`` runs ``STEPS`` in order on one shared ``Run`` and returns it; each
step reads what earlier steps left on the run (the affected set, the pushed references) and
returns its ``Step`` record. A step that needs an earlier one to have passed says so in its
detail instead of running.
"""

import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools.affected.api import BazelError, CheckoutError, Config, Result, base_checkout, compute, kinds
from tools.bazel_client import clean_env, default_startup
from tools.ci import coverage_report
from tools.gitdiff import GitError

log = logging.getLogger("ci")

BUMP_TARGET = "//infrastructure:bump"
# The model report (model/BUILD.bazel): built at the head and in the base checkout, then compared.
MODEL_TARGET = "//model:model"
REPORT_TARGET = "//model:report"
COMPARE_TARGET = "//model:compare_reports"
REPORT_DIR = "model-report"

# What a push target prints last on stdout: REPOSITORY@sha256:DIGEST (bazel/oci/push.py).
_IMAGE_REFERENCE = re.compile(r"^\S+@sha256:[0-9a-f]+$")


@dataclass
class Options:
    """What to run.

    Attributes:
        workspace: the workspace to test and build.
        base: base revision (None: the merge-base with the main branch).
        head: head revision (None: the working tree).
        bazel: the bazel executable.
        startup: Bazel startup options (None: what tools/bazel uses).
        flags: options for every Bazel command.
        cache_dir: the affected tool's cache (None: its default).
        push: push the affected images.
        deploy: pin pushed digests in the manifests.
        overlay: the kustomize overlay the deploy step bumps (None: the bump tool's default).
        coverage: run tests under coverage.py.
        report_dir: where the model report goes (None: ``REPORT_DIR`` in the workspace).
    """

    workspace: Path
    base: str | None = None
    head: str | None = None
    bazel: str = "bazel"
    startup: list[str] | None = None
    flags: list[str] = field(default_factory=list)
    cache_dir: Path | None = None
    push: bool = False
    deploy: bool = False
    overlay: str | None = None
    coverage: bool = True
    report_dir: Path | None = None


@dataclass
class Step:
    """One step of the pipeline and how it went."""

    name: str
    status: str = "skipped"  # passed, failed, skipped
    seconds: float = 0.0
    detail: str = ""
    command: str = ""

    def fail(self, why: str) -> None:
        """Mark the step failed, saying why."""
        self.status = "failed"
        self.detail = f"{self.detail}; {why}" if self.detail else why


@dataclass
class Run:
    """One pipeline run: its options, the steps so far and what they produced.

    Attributes:
        options: what to run.
        steps: each step's record, in order.
        affected: the affected set (set by the first step).
        coverage_md: the coverage section for the summary ("" when none).
        model_report_md: the model report section for the summary ("" when none).
        pushed: service -> pushed image reference.
        started: when the run started (time.monotonic()).
    """

    options: Options
    steps: list[Step] = field(default_factory=list)
    affected: Result | None = None
    coverage_md: str = ""
    model_report_md: str = ""
    pushed: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def result(self) -> Result:
        """The affected set (the first step sets it)."""
        if self.affected is None:
            raise RuntimeError("the affected step has not run")
        return self.affected

    @property
    def failed(self) -> list[Step]:
        """The steps that failed so far."""
        return [s for s in self.steps if s.status == "failed"]

    def bazel_cmd(self, command: str, *args: str) -> list[str]:
        """The full Bazel command line."""
        o = self.options
        startup = o.startup if o.startup is not None else default_startup(o.workspace)
        return [o.bazel, *startup, command, *o.flags, *args]

    def execute(
        self, step: Step, cmd: list[str], capture: bool = False, success: tuple[int, ...] = (0,)
    ) -> subprocess.CompletedProcess:
        """Run ``cmd`` for ``step``: its output goes to stderr (or is captured), its time and status recorded.

        Args:
            step: the step the command belongs to.
            cmd: the command line.
            capture: capture stdout instead of passing it to stderr.
            success: the exit codes that count as passed.
        """
        step.command = shlex.join(cmd)
        log.info("ci: %s: %s", step.name, step.command)
        started = time.monotonic()
        result = subprocess.run(
            cmd,
            cwd=self.options.workspace,
            stdout=subprocess.PIPE if capture else 2,
            text=True,
            check=False,
            env=clean_env(),
        )
        step.seconds += time.monotonic() - started
        step.status = "passed" if result.returncode in success and step.status != "failed" else "failed"
        return result

    def execute_on_targets(
        self, step: Step, command: str, labels: list[str], *args: str, success: tuple[int, ...] = (0,)
    ) -> None:
        """``bazel COMMAND ARGS`` on ``labels``, passed in a file (long lists never hit the argument limit)."""
        with tempfile.NamedTemporaryFile("w", suffix=".targets", delete=False) as pf:
            pf.write("\n".join(labels) + "\n")
        try:
            self.execute(step, self.bazel_cmd(command, *args, f"--target_pattern_file={pf.name}"), success=success)
        finally:
            os.unlink(pf.name)

    def capture(self, *bazel_args: str) -> subprocess.CompletedProcess:
        """A Bazel command whose output is data, not a step (``bazel info``, ``bazel query``)."""
        cmd = self.bazel_cmd(*bazel_args)
        return subprocess.run(
            cmd, cwd=self.options.workspace, capture_output=True, text=True, check=False, env=clean_env()
        )


def _affected_config(o: Options) -> Config:
    """The affected tool's configuration for these options (the base checkout is found from it too)."""
    return Config(
        workspace=o.workspace,
        base=o.base,
        head=o.head,
        bazel=o.bazel,
        startup=o.startup,
        flags=o.flags,
        cache_root=o.cache_dir,
    )


def select_affected(run: Run) -> Step:
    """The affected set of the change (//tools/affected)."""
    o = run.options
    step = Step("affected targets")
    started = time.monotonic()
    result = compute(_affected_config(o))
    run.affected = result
    step.seconds = time.monotonic() - started
    step.status = "passed"
    step.detail = (
        f"{len(result.targets)} affected from {len(result.changes)} changed file(s)"
        if result.exact
        else f"EVERYTHING: {result.reason}"
    )
    step.command = f"bazel run //tools/affected -- --base {o.base or '(merge-base)'}"
    return step


# `bazel test` exits with this code when it built everything asked and none of it was a test.
_NO_TESTS_FOUND = 4


def _images(result: Result) -> list[str]:
    return [] if result.all_targets_unknown else result.labels(kinds.IMAGE)


def _other_builds(result: Result) -> list[str]:
    images = _images(result)
    return [label for label in result.labels(kinds.BUILD) if label not in images]


def run_tests(run: Run) -> Step:
    """One ``bazel test`` on the affected tests, images and other targets, tests under coverage.py.

    One command, not a ``bazel build`` of the images after the tests: measured on Bazel 7.7, a
    command whose targets hold no test makes the next ``bazel test`` load its packages and
    analyse again (60 packages, 9-11 s on a two-target repository), which was most of the fixed
    cost of a one-service CI run (//tools/ci:benchmark). The image and build steps below report
    on what this command built.
    """
    step = Step("test")
    tests = run.result.labels(kinds.TEST)
    builds = _images(run.result) + _other_builds(run.result)
    # The head's model report is built here too: a `bazel build` of it afterwards, without this
    # command's --test_env, discarded Bazel's analysis cache and re-ran a failed training.
    if _model_affected(run.result) and REPORT_TARGET not in builds and _label_exists(run, REPORT_TARGET):
        builds.append(REPORT_TARGET)
    if not tests and not builds:
        step.detail = "no affected tests"
        return step
    args = ["--nozip_undeclared_test_outputs"]
    if run.options.coverage:
        args.append("--test_env=MLOPS_PYTEST_COVERAGE=1")
    success = (0,) if tests else (0, _NO_TESTS_FOUND)
    run.execute_on_targets(step, "test", tests + builds, *args, success=success)
    step.detail = f"{len(tests)} test target(s)" if tests else "no affected tests"
    if builds:
        step.detail += f"; {len(builds)} other target(s) built by the same command"
    if tests and run.options.coverage:
        testlogs = Path(run.capture("info", "bazel-testlogs").stdout.strip())
        run.coverage_md = coverage_report.markdown(testlogs, tests, run.options.workspace)
    return step


def _test_step(run: Run) -> Step:
    return next(s for s in run.steps if s.name == "test")


def _built_by_test_step(run: Run, step: Step) -> Step:
    step.status = _test_step(run).status
    step.command = "(the test step's command)"
    return step


def build_images(run: Run) -> Step:
    """The affected images, built by the test step's ``bazel test``."""
    step = Step("build images")
    images = _images(run.result)
    if not images:
        step.detail = "no affected images"
        return step
    step.detail = ", ".join(f"`{i}`" for i in images)
    return _built_by_test_step(run, step)


def build_others(run: Run) -> Step:
    """The other affected build targets, built by the test step's ``bazel test``."""
    step = Step("build")
    builds = _other_builds(run.result)
    if not builds:
        step.detail = "nothing else to build"
        return step
    step.detail = f"{len(builds)} target(s)"
    return _built_by_test_step(run, step)


def model_report(run: Run) -> Step:
    """The model report, base against head, when ``//model:model`` is affected.

    ``//model:report`` is built at the head (by the test step's command) and at the base in the
    affected tool's cached base checkout (its own output base: a base seen before is a cache hit);
    ``//model:compare_reports`` then writes the table, the plots and, for a data change, the
    drift plot into the report directory. A base without the target, or whose report does not
    build, gives a head-only report, not a failure: the change under test is the head.
    """
    step = Step("model report")
    if not _model_affected(run.result):
        step.detail = f"`{MODEL_TARGET}` not affected"
        return step
    if not _label_exists(run, REPORT_TARGET):
        step.detail = f"{REPORT_TARGET} does not exist in this workspace"
        return step
    if _test_step(run).status == "failed":
        # bazel-bin may still hold an older report; comparing it would describe another model.
        step.detail = f"{REPORT_TARGET} is built by the test step, which failed"
        return step
    head_bin = Path(run.capture("info", "bazel-bin").stdout.strip())
    started = time.monotonic()
    base_dir, base_note = _base_report(run)
    step.seconds += time.monotonic() - started
    out = run.options.report_dir or run.options.workspace / REPORT_DIR
    try:
        prefix = f"{out.relative_to(run.options.workspace)}/"
    except ValueError:
        prefix = f"{out}/"
    args = ["--head", str(head_bin / "model" / "report"), "--out", str(out), "--link-prefix", prefix]
    args += ["--head-train", str(head_bin / "data" / "features" / "train.parquet")]
    if base_dir is not None:
        args += ["--base", str(base_dir)]
    compared = run.execute(step, run.bazel_cmd("run", COMPARE_TARGET, "--", *args), capture=True)
    if compared.returncode == 0:
        run.model_report_md = compared.stdout + (f"\n{base_note}\n" if base_note else "")
    step.detail = f"{'base vs head' if base_dir else 'head only'}, in {prefix}" + (
        f"; {base_note}" if base_note else ""
    )
    return step


def _model_affected(result: Result) -> bool:
    return result.all_targets_unknown or MODEL_TARGET in {t.label for t in result.targets}


def _base_report(run: Run) -> tuple[Path | None, str]:
    """Build ``//model:report`` in the base checkout; (its directory, "") or (None, why not)."""
    commit = run.result.base_commit
    if not commit:
        return None, "no base commit"
    log.info("ci: model report: building %s at the base %s (cached checkout)", REPORT_TARGET, commit[:12])
    try:
        with base_checkout(_affected_config(run.options), commit) as bazel:
            # user.bazelrc is git-ignored, so the checkout has none: give it the user's (caches,
            # remote endpoints), or the base would rebuild what the disk cache already holds.
            user_rc = run.options.workspace / "user.bazelrc"
            if user_rc.is_file():
                shutil.copyfile(user_rc, bazel.workspace / "user.bazelrc")
            try:
                bazel.query_labels(REPORT_TARGET)
            except BazelError:
                return None, f"the base has no {REPORT_TARGET}"
            bazel.run("build", REPORT_TARGET)
            base_bin = Path(str(bazel.run("info", "bazel-bin")).strip())
    except (BazelError, CheckoutError, GitError, OSError) as err:
        log.warning("ci: model report: the base's report did not build: %s", err)
        return None, f"the base's {REPORT_TARGET} did not build"
    return base_bin / "model" / "report", ""


def service_name(push_label: str) -> str:
    """The service a push target belongs to: its package's last directory (//services/api:push -> api)."""
    return push_label[2:].split(":", 1)[0].rsplit("/", 1)[-1]


def push_images(run: Run) -> Step:
    """``bazel run`` of each affected push target, only when every earlier step passed.

    A push counts only when it prints the pushed reference (REPOSITORY@sha256:DIGEST) as its
    last stdout line: a zero exit without one is a failure, not a silent "nothing pushed".
    """
    step = Step("push")
    pushes = [] if run.result.all_targets_unknown else [t.label for t in run.result.selected(kinds.PUSH)]
    if not run.options.push:
        step.detail = "not requested (--push)"
        return step
    if run.failed:
        step.detail = "not run: an earlier step failed"
        return step
    if not pushes:
        step.detail = "no affected push targets"
        return step
    missing = []
    for label in pushes:
        out = run.execute(step, run.bazel_cmd("run", label), capture=True)
        lines = out.stdout.strip().splitlines()
        ref = lines[-1].strip() if lines else ""
        if out.returncode != 0:
            continue
        if _IMAGE_REFERENCE.match(ref):
            run.pushed[service_name(label)] = ref
        else:
            missing.append(label)
    registry = os.environ.get("REGISTRY") or "the embedded local registry"
    step.detail = f"to {registry}: " + ", ".join(f"{k}={v}" for k, v in run.pushed.items())
    for label in missing:
        step.fail(f"`{label}` exited 0 but printed no image reference (REPOSITORY@sha256:DIGEST)")
    return step


def deploy(run: Run) -> Step:
    """``bazel run //infrastructure:bump`` with the pushed references, when every earlier step passed."""
    step = Step("deploy")
    if not run.options.deploy:
        step.detail = "not requested (--deploy)"
    elif run.failed:
        step.detail = "not run: an earlier step failed"
    elif not run.pushed:
        step.detail = "nothing pushed, nothing to deploy"
    elif not _label_exists(run, BUMP_TARGET):
        step.detail = f"{BUMP_TARGET} does not exist in this workspace"
    else:
        extra = ["--overlay", run.options.overlay] if run.options.overlay else []
        args = [f"{k}={v}" for k, v in run.pushed.items()]
        run.execute(step, run.bazel_cmd("run", BUMP_TARGET, "--", *args, *extra))
        step.detail = ", ".join(run.pushed)
    return step


def _label_exists(run: Run, label: str) -> bool:
    result = run.capture("query", label, "--output=label")
    return result.returncode == 0 and label in result.stdout


# The pipeline, in order. Each step gets the run so far and returns its record.
STEPS: tuple[Callable[[Run], Step], ...] = (
    select_affected,
    run_tests,
    build_images,
    build_others,
    model_report,
    push_images,
    deploy,
)


def run_pipeline(options: Options, steps: tuple[Callable[[Run], Step], ...] = STEPS) -> Run:
    """Run every step in order.

    Args:
        options: what to run.
        steps: the steps (default: ``STEPS``).

    Returns:
        The run: every step's record, the affected set, the pushed references.
    """
    run = Run(options)
    for step in steps:
        run.steps.append(step(run))
    return run
