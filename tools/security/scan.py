"""The vulnerability scan of the images' SBOMs and the Python locks, as CI runs it, for a local run.

    bazel run //tools/security:scan                     # every image's SBOM, both locks
    bazel run //tools/security:scan -- //services/predict:image
    bazel run //tools/security:scan -- --export DIR [IMAGE...]   # copy the SBOMs (what CI uploads)

SBOMs: with trivy on PATH, `trivy sbom --config tools/security/trivy.yaml` (the committed policy:
fail on CRITICAL); else with grype, `grype sbom:FILE --fail-on <the policy's severity>`.
Locks: `pip-audit --require-hashes` over requirements_lock.txt and tools/security/requirements_lock.txt
when pip-audit is on PATH. Both need vulnerability databases from the internet, which is why
the same scan runs in the GitHub workflow; without the tools it says what is missing (exit 2).
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

POLICY = Path("tools/security/trivy.yaml")
LOCKS = [Path("requirements_lock.txt"), Path("tools/security/requirements_lock.txt")]
# The SBOM of each service image, as image_sbom names them: //pkg:image -> pkg/sbom.cdx.json.
SBOM_NAME = "sbom.cdx.json"


def runfile(path: str) -> Path:
    """A file of this binary's runfiles (the SBOMs, the policy)."""
    root = Path(os.environ.get("RUNFILES_DIR", Path(__file__).resolve().parents[2]))
    for candidate in (root / "_main" / path, root / path, Path(path)):
        if candidate.exists():
            return candidate
    raise SystemExit(f"scan: {path} is not in the runfiles ({root})")


def sboms(images: list[str], known: list[str]) -> dict[str, Path]:
    """{service: SBOM path} for the given image labels (all known ones when none are given)."""
    packages = [label.removeprefix("//").split(":", 1)[0] for label in images] or known
    unknown = [p for p in packages if p not in known]
    if unknown:
        raise SystemExit(f"scan: no SBOM for {', '.join(unknown)}; known images: {', '.join(known)}")
    return {package.rsplit("/", 1)[-1]: runfile(f"{package}/{SBOM_NAME}") for package in packages}


def policy_severities(policy: Path) -> list[str]:
    """The severities the policy fails on (the `severity:` list of Trivy's config file)."""
    severities, inside = [], False
    for line in policy.read_text().splitlines():
        if line.startswith("severity:"):
            inside = True
        elif inside and line.strip().startswith("- "):
            severities.append(line.strip()[2:].strip())
        elif inside and line and not line.startswith(" "):
            break
    return severities


def workspace() -> Path:
    """The source tree (under bazel run: BUILD_WORKSPACE_DIRECTORY)."""
    return Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."))


def scan_sboms(files: dict[str, Path]) -> int | None:
    """Scans each SBOM with trivy or grype; None when neither is installed."""
    trivy, grype = shutil.which("trivy"), shutil.which("grype")
    if not trivy and not grype:
        return None
    status = 0
    for service, sbom in files.items():
        if trivy:
            command = [trivy, "sbom", "--config", str(workspace() / POLICY), str(sbom)]
        else:
            lowest = policy_severities(runfile(str(POLICY)))[-1].lower()
            command = [grype, f"sbom:{sbom}", "--fail-on", lowest]
        print(f"scan: {service}: {' '.join(command)}", flush=True)
        code = subprocess.run(command, cwd=workspace(), check=False).returncode
        print(f"scan: {service}: {'FAILED (policy: ' + POLICY.name + ')' if code else 'ok'}", flush=True)
        status = status or code
    return status


def audit_locks() -> int | None:
    """pip-audit over the locks; None when pip-audit is not installed."""
    pip_audit = shutil.which("pip-audit")
    if not pip_audit:
        return None
    status = 0
    for lock in LOCKS:
        command = [pip_audit, "--requirement", str(lock), "--require-hashes", "--disable-pip", "--progress-spinner=off"]
        print(f"scan: {' '.join(command)}", flush=True)
        status = status or subprocess.run(command, cwd=workspace(), check=False).returncode
    return status


def main(argv: list[str] | None = None) -> int:
    """Exports or scans; exit 0 clean, 1 on policy failures, 2 when the scanners are missing."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", help="image labels, e.g. //services/predict:image (default: all)")
    parser.add_argument("--export", metavar="DIR", help="copy the SBOMs to DIR as <service>.cdx.json; no scan")
    parser.add_argument("--known", action="append", default=[], help="a package with an image SBOM (from BUILD)")
    args = parser.parse_args(argv)

    files = sboms(args.images, args.known)
    if args.export:
        target = Path(os.environ.get("BUILD_WORKING_DIRECTORY", "."), args.export)
        target.mkdir(parents=True, exist_ok=True)
        for service, sbom in files.items():
            shutil.copyfile(sbom, target / f"{service}.cdx.json")
            print(target / f"{service}.cdx.json")
        return 0

    results = {"SBOMs (trivy or grype)": scan_sboms(files), "locks (pip-audit)": audit_locks()}
    missing = [what for what, code in results.items() if code is None]
    for what in missing:
        print(
            f"scan: NOT RUN: {what}: not installed on PATH. Install trivy (https://trivy.dev) or grype, and pip-audit"
        )
        print("scan:   (pip install pip-audit); they download vulnerability databases, so they need the internet.")
    if missing:
        print(f"scan: the SBOMs are ready for any scanner: {', '.join(str(p) for p in files.values())}")
    failed = [what for what, code in results.items() if code]
    if failed:
        print(f"scan: FAILED: {', '.join(failed)}")
        return 1
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
