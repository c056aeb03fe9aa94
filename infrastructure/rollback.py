"""Restore a service's previous image digest from the git history of its overlay.

bazel run //infrastructure:rollback -- <service> [--to sha256:<digest>] [--overlay staging]

Rolling back the GitOps way: the overlay file is rewritten, then committed and pushed like
any bump, and Argo CD syncs the cluster to it.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from infrastructure.cli_paths import add_overlay_arguments, kustomization_path
from infrastructure.image_ref import DigestRef, parse_digest_ref
from infrastructure.overlay_images import OverlayError, read_images, service_image, set_images

_DIGEST_ONLY = "sha256:"


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise OverlayError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


def history(path: Path, service: str) -> list[DigestRef]:
    """The service's pinned references in the commits that touched ``path``, newest first.

    Consecutive duplicates are collapsed; versions of the file that cannot be read are skipped.
    """
    commits = _git(path.parent, "log", "--format=%H", "--", path.name).split()
    refs: list[DigestRef] = []
    for commit in commits:
        text = _git(path.parent, "show", f"{commit}:./{path.name}")
        try:
            ref = read_images(text).get(service)
        except OverlayError, ValueError:
            continue
        if ref is not None and (not refs or refs[-1] != ref):
            refs.append(ref)
    return refs


def choose_target(current: DigestRef, past: list[DigestRef], to: str | None) -> DigestRef:
    """Pick the reference to restore: the newest one that differs from ``current``, or ``to``.

    Raises:
        OverlayError: when history has nothing older, or ``to`` was never deployed.
    """
    if to is None:
        for ref in past:
            if ref != current:
                return ref
        raise OverlayError(f"no earlier digest than {current.digest} in the overlay's git history")
    wanted = to if to.startswith(_DIGEST_ONLY) else parse_digest_ref(to).digest
    for ref in past:
        if ref.digest == wanted:
            return ref
    raise OverlayError(f"{wanted} was never pinned in this overlay's git history; refusing to roll back to it")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints a JSON summary on stdout, errors on stderr."""
    parser = argparse.ArgumentParser(
        description="Restore a service's previous digest (from git history) in a kustomize overlay.",
    )
    parser.add_argument("service", help="api or predict")
    parser.add_argument("--to", help="digest (sha256:...) or full reference to restore; default: the previous one")
    add_overlay_arguments(parser)
    args = parser.parse_args(argv)
    try:
        service_image(args.service)
        path = kustomization_path(args.overlays_dir, args.overlay)
        text = path.read_text()
        current = read_images(text).get(args.service)
        if current is None:
            raise OverlayError(f"the overlay has no images entry for {args.service}")
        target = choose_target(current, history(path, args.service), args.to)
        new_text, _ = set_images(text, {args.service: target})
        if new_text != text:
            path.write_text(new_text)
    except (OverlayError, ValueError) as error:
        print(f"rollback: {error}", file=sys.stderr)
        return 2
    print(f"rollback: {args.overlay}: {args.service} {current} -> {target}", file=sys.stderr)
    print(f"rollback: now commit and push {path} for Argo CD to sync it", file=sys.stderr)
    summary = {"overlay": args.overlay, "file": str(path), "service": args.service}
    summary.update({"from": str(current), "to": str(target)})
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
