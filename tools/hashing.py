"""The sha256 of a file, read in chunks: how artifacts, data files and image blobs are identified."""

import hashlib
import os


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of the file at ``path`` (streamed, so large files are not read into memory)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
