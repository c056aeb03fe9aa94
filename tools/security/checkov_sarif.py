"""Runs checkov over the infrastructure (Terraform, rendered Kubernetes, Argo CD, GitHub workflow) into SARIF.

A build action: it stages the inputs at their repository paths (each kustomize overlay rendered
to `<overlay>/rendered.yaml` first, as the cluster receives it), runs checkov once over the
stage with the frameworks terraform, kubernetes and github_actions, offline, and writes SARIF
whose file URIs are repository paths. Never fails on findings: sarif_gate judges them against
tools/security/checkov_baseline.toml.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMEWORKS = ["terraform", "kubernetes", "github_actions"]


def stage_copy(files: list[str], stage: Path) -> None:
    """Copies files to the stage at their repository paths (contents, not Bazel's symlinks)."""
    for name in files:
        target = stage / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(name, target)


def render(overlay: str, k8s_files: list[str], stage: Path, kustomize: str) -> None:
    """Renders one kustomize overlay into <stage>/<overlay>/rendered.yaml."""
    with tempfile.TemporaryDirectory() as scratch:
        stage_copy(k8s_files, Path(scratch))
        result = subprocess.run(
            [kustomize, "build", str(Path(scratch) / overlay)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"checkov_sarif: kustomize build {overlay} failed:\n{result.stderr}")
    target = stage / overlay / "rendered.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(result.stdout)


def _any_of(schema: object) -> None:
    """Turns every oneOf of a JSON schema into anyOf, in place."""
    if isinstance(schema, dict):
        if "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
        for value in schema.values():
            _any_of(value)
    elif isinstance(schema, list):
        for value in schema:
            _any_of(value)


def run_checkov(stage: Path, out_dir: Path) -> int:
    """Runs checkov in this process over the stage; returns its exit code."""
    os.environ.update(BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false", LOG_LEVEL="ERROR")
    from checkov.github_actions import utils as gha_utils  # noqa: PLC0415 - heavy; only in the action
    from checkov.main import Checkov  # noqa: PLC0415

    # checkov 3.3.30's bundled workflow schema says `oneOf: [string, expression]`, which an
    # expression such as cancel-in-progress: ${{ ... }} matches twice: the file then fails the
    # schema and is SKIPPED without a word. anyOf keeps the check and lets the workflow be
    # scanned (actionlint and the workflow schema test validate it properly).
    _any_of(gha_utils.gha_workflow)
    argv = ["--directory", ".", "--framework", *FRAMEWORKS, "--output", "sarif", "--output", "json"]
    argv += ["--output-file-path", str(out_dir), "--soft-fail", "--quiet", "--compact", "--skip-download"]
    # From the stage, so the reports' file paths are repository paths; the console copy of the
    # JSON report is not wanted (the files are).
    previous = Path.cwd()
    os.chdir(stage)
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            return Checkov(argv).run() or 0
    finally:
        os.chdir(previous)


def scanned_frameworks(results_json: Path) -> dict[str, int]:
    """{framework: checks run} from checkov's JSON report (one report, or a list of them)."""
    data = json.loads(results_json.read_text())
    reports = data if isinstance(data, list) else [data]
    counts = {}
    for report in reports:
        summary = report.get("summary", {})
        counts[report.get("check_type", "?")] = summary.get("passed", 0) + summary.get("failed", 0)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Stages, renders, scans; writes the SARIF file and prints how long checkov took."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="the SARIF file to write")
    parser.add_argument("--file", action="append", default=[], help="a file scanned as it is (repeatable)")
    parser.add_argument("--k8s-file", action="append", default=[], help="a file of the kustomize tree (repeatable)")
    parser.add_argument("--overlay", action="append", default=[], help="an overlay directory to render and scan")
    parser.add_argument("--kustomize", default=shutil.which("kustomize") or "/usr/bin/kustomize")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as work:
        stage = Path(work, "stage").resolve()
        stage_copy(args.file, stage)
        for overlay in args.overlay:
            render(overlay, args.k8s_file, stage, args.kustomize)
        out_dir = Path(work, "out").resolve()
        started = time.monotonic()
        code = run_checkov(stage, out_dir)
        sarif = out_dir / "results_sarif.sarif"
        if code != 0 or not sarif.is_file():
            return f"checkov_sarif: checkov failed ({code}); no SARIF written"
        counts = scanned_frameworks(out_dir / "results_json.json")
        silent = [framework for framework in FRAMEWORKS if not counts.get(framework)]
        if silent:
            return f"checkov_sarif: checkov ran no {', '.join(silent)} checks (files skipped?): {counts}"
        # checkov writes URIs relative to the stage: repository paths.
        document = json.loads(sarif.read_text())
        Path(args.output).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        print(
            f"checkov_sarif: {counts} checks over {len(args.file)} files and {len(args.overlay)} overlays "
            f"in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
