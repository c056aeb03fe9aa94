"""Pin services' images by digest in a kustomize overlay: the GitOps deploy step.

bazel run //infrastructure:bump -- api=<registry>/mlops/api@sha256:<digest> [--overlay staging]
"""

import argparse
import json
import sys

from infrastructure.cli_paths import add_overlay_arguments, kustomization_path
from infrastructure.image_ref import DigestRef, parse_digest_ref
from infrastructure.overlay_images import OverlayError, set_images


def parse_assignment(text: str) -> tuple[str, DigestRef]:
    """Parse ``service=<registry>/<repo>@sha256:<digest>``; raises ValueError otherwise."""
    service, sep, ref = text.partition("=")
    if not sep or not service:
        raise ValueError(f"{text!r}: expected <service>=<registry>/<repo>@sha256:<digest>")
    return service, parse_digest_ref(ref)


def bump(path, updates: dict[str, DigestRef]) -> dict:
    """Rewrite the overlay at ``path`` in place (only if something changes) and describe what moved."""
    text = path.read_text()
    new_text, changes = set_images(text, updates)
    if new_text != text:
        path.write_text(new_text)
    return {
        "file": str(path),
        "changed": {c.service: {"from": c.old, "to": c.new} for c in changes if c.changed},
        "unchanged": sorted(c.service for c in changes if not c.changed),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; prints a JSON summary on stdout, errors on stderr."""
    parser = argparse.ArgumentParser(
        description="Pin service images by digest in a kustomize overlay (idempotent; tags are refused).",
    )
    parser.add_argument(
        "assignments",
        nargs="+",
        metavar="SERVICE=REF",
        help="e.g. api=123.dkr.ecr.eu-west-1.amazonaws.com/mlops/api@sha256:<64 hex>",
    )
    add_overlay_arguments(parser)
    args = parser.parse_args(argv)
    try:
        updates: dict[str, DigestRef] = {}
        for assignment in args.assignments:
            service, ref = parse_assignment(assignment)
            if service in updates and updates[service] != ref:
                raise ValueError(f"{service} is given two different references")
            updates[service] = ref
        path = kustomization_path(args.overlays_dir, args.overlay)
        summary = bump(path, updates)
    except (OverlayError, ValueError) as error:
        print(f"bump: {error}", file=sys.stderr)
        return 2
    summary["overlay"] = args.overlay
    for service, move in summary["changed"].items():
        print(f"bump: {args.overlay}: {service} {move['from']} -> {move['to']}", file=sys.stderr)
    for service in summary["unchanged"]:
        print(f"bump: {args.overlay}: {service} already pinned, nothing to do", file=sys.stderr)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
