"""Pushes an OCI layout with crane, signs it with cosign, and prints the pushed reference (REPOSITORY@DIGEST).

Run through an oci_push target: bazel run //services/predict:push [-- EXTRA_TAG...]
Registry: the repository's own host if it names one; else $REGISTRY; else the embedded local
registry, started if needed (bazel run //bazel/oci:registry -- status|stop).
Signing: with COSIGN_KEY set (a key file, or env://VAR), the pushed digest is signed and the
image's SBOM attached as a cyclonedx attestation (see bazel/oci/signing.py); the signature's
reference is printed. MLOPS_REQUIRE_SIGNATURE=1 makes a missing key an error (CI sets it).
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bazel.oci import ocilib, registry_lib, signing


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the pushed reference."""
    print(f"push: {message}", file=sys.stderr)


def names_registry(repository: str) -> bool:
    """True when the repository starts with a registry host (has '.' or ':' or is localhost)."""
    first = repository.split("/", 1)[0]
    return "/" in repository and ("." in first or ":" in first or first == "localhost")


def resolve_repository(repository: str) -> str:
    """Prefixes the repository with $REGISTRY or the embedded registry's address when needed."""
    if names_registry(repository):
        return repository
    registry = os.environ.get("REGISTRY", "").rstrip("/")
    if not registry:
        running = registry_lib.start()
        registry = running["addr"]
        log(f"REGISTRY is unset: using the embedded registry at {registry} (storage {running['dir']});")
        log("  stop it with: bazel run //bazel/oci:registry -- stop")
    return f"{registry}/{repository}"


def git_tag() -> str | None:
    """The workspace's git commit, with "-dirty" when there are uncommitted changes; None without git."""
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace or not shutil.which("git"):
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", workspace, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", workspace, "status", "--porcelain"], check=True, capture_output=True, text=True
        ).stdout.strip()
    except subprocess.CalledProcessError:
        return None
    return commit + ("-dirty" if dirty else "")


def crane(*args: str) -> str:
    """Runs crane (from the build root) and returns its stdout."""
    binary = shutil.which("crane") or "/usr/bin/crane"
    extra = ["--insecure"] if os.environ.get("REGISTRY_INSECURE") == "1" else []
    result = subprocess.run([binary, *args, *extra], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"push: crane {args[0]} failed ({result.returncode})")
    return result.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """Pushes the layout under every tag and prints REPOSITORY@DIGEST."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", required=True, help="the OCI layout directory (an oci_image output)")
    parser.add_argument("--repository", required=True, help="e.g. mlops/predict, or host:port/mlops/predict")
    parser.add_argument("--tag", action="append", default=[], help="a tag pushed every time (repeatable)")
    parser.add_argument("--sbom", help="the image's CycloneDX SBOM, attached as an attestation when signing")
    parser.add_argument("extra_tags", nargs="*", help="more tags, from `bazel run ... -- TAG...`")
    args = parser.parse_args(argv)

    layout = Path(args.layout).resolve()
    digest, _, _ = ocilib.load_layout(layout)
    repository = resolve_repository(args.repository)
    tags = [t for t in [git_tag(), *args.tag, *args.extra_tags] if t]
    if not tags:
        tags = ["latest"]
    first = f"{repository}:{tags[0]}"
    log(f"pushing {digest} to {first}")
    pushed = crane("push", str(layout), first)
    if not pushed.endswith(digest):
        raise SystemExit(f"push: the registry reports {pushed}, the layout is {digest}")
    for tag in tags[1:]:
        crane("tag", first, tag)
        log(f"tagged {repository}:{tag}")
    reference = f"{repository}@{digest}"
    log(f"digest: {digest}")
    status = sign_pushed(reference, args.sbom)
    print(reference)
    return status


def sign_pushed(reference: str, sbom: str | None) -> int:
    """Signs the pushed digest (and attests the SBOM) when COSIGN_KEY is set; returns the exit status."""
    key = os.environ.get("COSIGN_KEY", "")
    if not key:
        if os.environ.get("MLOPS_REQUIRE_SIGNATURE") == "1":
            log("MLOPS_REQUIRE_SIGNATURE=1 but COSIGN_KEY is unset: refusing to leave the image unsigned")
            return 1
        log("not signed: set COSIGN_KEY (a cosign key file or env://VAR) and COSIGN_PASSWORD to sign")
        return 0
    try:
        signed = signing.sign(reference, key, Path(sbom).resolve() if sbom else None)
    except signing.SigningError as error:
        log(str(error))
        return 1
    log(f"signature: {signed.signature}")
    if signed.attestation:
        log(f"SBOM attestation (cyclonedx): {signed.attestation}")
    log(f"verify: cosign verify --key cosign.pub --insecure-ignore-tlog=true {reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
