"""Pin services' images by digest in a kustomize overlay: the GitOps deploy step.

bazel run //infrastructure:bump -- api=<registry>/mlops/api@sha256:<digest> [--overlay staging]
With a public key (--public-key or COSIGN_PUBLIC_KEY: a file or env://VAR), each digest's cosign
signature must verify against it first; a digest that does not verify is refused and nothing
is written.
"""

import argparse
import json
import os
import sys

from bazel.oci import signing
from infrastructure.cli_paths import add_overlay_arguments, kustomization_path
from infrastructure.image_ref import DigestRef, parse_digest_ref
from infrastructure.overlay_images import OverlayError, set_images


def parse_assignment(text: str) -> tuple[str, DigestRef]:
    """Parse ``service=<registry>/<repo>@sha256:<digest>``; raises ValueError otherwise."""
    service, sep, ref = text.partition("=")
    if not sep or not service:
        raise ValueError(f"{text!r}: expected <service>=<registry>/<repo>@sha256:<digest>")
    return service, parse_digest_ref(ref)


def verify_signatures(updates: dict[str, DigestRef], public_key: str) -> None:
    """Checks every reference's signature against `public_key`; raises ValueError naming the first that fails."""
    for service, ref in sorted(updates.items()):
        try:
            signing.verify(str(ref), public_key)
        except signing.SigningError as error:
            raise ValueError(
                f"refusing {service}={ref}: its signature does not verify against {public_key}: {error}"
            ) from error
        print(f"bump: {service}: signature verified against {public_key}", file=sys.stderr)


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
    parser.add_argument(
        "--public-key",
        default=os.environ.get("COSIGN_PUBLIC_KEY", ""),
        help="cosign public key (file or env://VAR) every digest's signature must verify against "
        "(default: $COSIGN_PUBLIC_KEY; unset: signatures are not checked)",
    )
    args = parser.parse_args(argv)
    try:
        updates: dict[str, DigestRef] = {}
        for assignment in args.assignments:
            service, ref = parse_assignment(assignment)
            if service in updates and updates[service] != ref:
                raise ValueError(f"{service} is given two different references")
            updates[service] = ref
        if args.public_key:
            verify_signatures(updates, args.public_key)
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
