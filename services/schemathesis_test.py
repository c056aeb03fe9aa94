"""Schemathesis (every check, bounded examples) against the OpenAPI of both services, running for real."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from services.launch import running_stack

API_KEY = "schemathesis-key-51b0"
SERVICES = ("predict", "api")
# Bounded by examples per operation and phase. Not by --max-time: under it schemathesis keeps
# fuzzing until the time is spent (150 s per service, 5 of the 14 minutes of a fresh
# `bazel test //...` at the end of the critical path), whatever the example budget.
MAX_EXAMPLES = 100
# A hung run fails the test instead of holding it until Bazel's timeout.
TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    model_dir = Path(os.environ["MODEL_SIGNATURE"]).resolve().parent
    workdir = tmp_path_factory.mktemp("schemathesis")
    with running_stack(
        os.environ["PREDICT_SERVE"], os.environ["API_SERVE"], workdir=workdir, model_dir=model_dir, api_key=API_KEY
    ) as running:
        yield running
        for service in SERVICES:
            assert running[service].process.poll() is None, f"{service} died:\n{running[service].log_tail()}"


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_all_checks_pass(stack, service):
    outputs = Path(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", tempfile.mkdtemp()))
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        stack[f"{service}_url"] + "/openapi.json",
        "--checks=all",
        f"--max-examples={MAX_EXAMPLES}",
        "--seed=20261201",
        "--workers=2",
        "--request-timeout=10",
        "--no-color",
        "--report=junit",
        f"--report-dir={outputs / service}",
    ]
    if service == "api":
        command.append(f"--header=X-API-Key: {API_KEY}")
    # Schemathesis keeps its example database in the working directory; keep it out of the runfiles.
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as cwd:
        run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, cwd=cwd)
    print(run.stdout[-20000:], run.stderr[-5000:], sep="\n")
    assert run.returncode == 0, f"schemathesis found failures on {service} (see the output above)"
    assert stack[service].process.poll() is None, stack[service].log_tail()
