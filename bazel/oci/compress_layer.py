"""Compresses a layer tar with the pinned gzip and writes its OCI descriptor (digest, size, diff_id)."""

import argparse
import json
import os
import sys

from bazel.oci import ocilib


def main(argv: list[str] | None = None) -> int:
    """Writes BLOB (tar+gzip) and DESCRIPTOR (JSON) for one layer tar."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tar", required=True)
    parser.add_argument("--blob", required=True)
    parser.add_argument("--descriptor", required=True)
    args = parser.parse_args(argv)

    ocilib.gzip_file(args.tar, args.blob)
    descriptor = {
        "mediaType": ocilib.MEDIA_LAYER_GZIP,
        "digest": ocilib.file_digest(args.blob),
        "size": os.path.getsize(args.blob),
        "diff_id": ocilib.file_digest(args.tar),
    }
    with open(args.descriptor, "w") as handle:
        json.dump(descriptor, handle, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
