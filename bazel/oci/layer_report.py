"""Prints an image's layers (sizes, what made them) and the bytes a push would send to a repository.

    bazel run //bazel/oci:layer_report -- bazel-bin/services/predict/image
    bazel run //bazel/oci:layer_report -- --repository 127.0.0.1:5000/mlops/predict bazel-bin/services/predict/image
    bazel run //bazel/oci:layer_report -- --against OLD_LAYOUT NEW_LAYOUT

A blob is sent only if the registry does not already have it (a HEAD request per blob, as
crane and docker do before uploading); manifests are always sent.
"""

import argparse
import os
import struct
import sys
import urllib.error
import urllib.request
from pathlib import Path

from bazel.oci import ocilib
from tools.user_paths import user_path


def uncompressed_size(blob: Path) -> int:
    """The gzip trailer's ISIZE (exact below 4 GiB)."""
    with open(blob, "rb") as handle:
        handle.seek(-4, os.SEEK_END)
        return struct.unpack("<I", handle.read(4))[0]


def blob_exists(repository: str, digest: str) -> bool:
    """HEAD /v2/<name>/blobs/<digest> on a plain-HTTP (loopback) or HTTPS registry."""
    host, _, name = repository.partition("/")
    scheme = "http" if host.startswith(("127.", "localhost")) else "https"
    request = urllib.request.Request(f"{scheme}://{host}/v2/{name}/blobs/{digest}", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def human(size: int) -> str:
    """Bytes as a short human-readable string."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{size} B"
        value /= 1024
    return f"{size} B"


def main(argv: list[str] | None = None) -> int:
    """Prints the report; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layout", help="an OCI layout directory (e.g. bazel-bin/services/predict/image)")
    parser.add_argument("--repository", help="host:port/name to compare with (blobs it has are not sent)")
    parser.add_argument("--against", help="an older layout of the same image: blobs it has count as present")
    args = parser.parse_args(argv)

    layout = user_path(args.layout)
    digest, manifest, config = ocilib.load_layout(layout)
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    known: set[str] = set()
    if args.against:
        _, old_manifest, _ = ocilib.load_layout(user_path(args.against))
        known = {layer["digest"] for layer in old_manifest["layers"]} | {old_manifest["config"]["digest"]}

    def present(blob_digest: str) -> bool:
        if args.repository:
            return blob_exists(args.repository, blob_digest)
        return blob_digest in known

    print(f"image {digest}")
    print(f"{'#':>2}  {'digest':<19}  {'compressed':>11}  {'uncompressed':>12}  {'push':>6}  created by")
    total = total_raw = send = layers_sent = 0
    for index, layer in enumerate(manifest["layers"]):
        size = layer["size"]
        raw = uncompressed_size(ocilib.blob_path(layout, layer["digest"]))
        has = present(layer["digest"]) if (args.repository or args.against) else False
        sent = 0 if has else size
        total, total_raw, layers_sent = total + size, total_raw + raw, layers_sent + sent
        made_by = history[index].get("created_by", "") if index < len(history) else ""
        print(
            f"{index:>2}  {layer['digest'][7:26]}  {human(size):>11}  {human(raw):>12}  "
            f"{'skip' if has else 'send':>6}  {made_by}"
        )
    config_size = manifest["config"]["size"]
    config_sent = 0 if (args.repository or args.against) and present(manifest["config"]["digest"]) else config_size
    manifest_size = ocilib.blob_path(layout, digest).stat().st_size
    send = layers_sent + config_sent + manifest_size
    print(f"total: {human(total)} compressed, {human(total_raw)} uncompressed, {len(manifest['layers'])} layers")
    target = args.repository or (f"a registry holding {args.against}" if args.against else "an empty registry")
    print(
        f"a push to {target} sends {send} bytes ({human(send)}): "
        f"layers {layers_sent} B, config {config_sent} B, manifest {manifest_size} B"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
