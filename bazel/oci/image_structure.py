"""The static half of an image test: user, entrypoint, labels, layer count, and no leftovers or secrets."""

import argparse
import tarfile
from pathlib import Path

from bazel.oci import ocilib

# Names that must not ship in application layers.
SECRET_NAMES = frozenset(
    {".env", ".netrc", ".pypirc", "id_rsa", "id_ed25519", "credentials", ".git-credentials", "user.bazelrc", ".bazelrc"}
)
SECRET_SUFFIXES = (".key", ".p12", ".pfx")
LEFTOVER_PARTS = frozenset({".git", ".pytest_cache", ".ruff_cache", ".mypy_cache"})

# PEP 552 flags of a bytecode file that never consults its source: what py_layer writes. A pyc
# with other flags (a timestamp one) was left by running something during the build.
_UNCHECKED_HASH_FLAGS = (1).to_bytes(4, "little")


def leftover(name: str, member: tarfile.TarInfo, data: bytes | None) -> bool:
    """True for VCS or tool caches, .pyo files, and bytecode that py_layer did not write."""
    parts = name.split("/")
    if not LEFTOVER_PARTS.isdisjoint(parts) or parts[-1].endswith(".pyo"):
        return True
    if "__pycache__" in parts[:-1]:
        # py_layer's bytecode: a .pyc directly in __pycache__, unchecked-hash when its header is read.
        wrong_place = parts[-2] != "__pycache__" or not parts[-1].endswith(".pyc")
        return wrong_place or (data is not None and data[4:8] != _UNCHECKED_HASH_FLAGS)
    return parts[-1].endswith(".pyc") or (parts[-1] == "__pycache__" and not member.isdir())


def fail(message: str) -> None:
    """Fails the test with one clear line."""
    raise SystemExit(f"image_test: FAIL: {message}")


def layer_names(layout: Path, descriptor: dict) -> list[tuple[str, tarfile.TarInfo, bytes | None]]:
    """Lists a layer's members; reads the content of small regular files (for the secret scan)."""
    result = []
    with tarfile.open(ocilib.blob_path(layout, descriptor["digest"]), "r:gz") as tar:
        for member in tar:
            data = None
            if member.isreg() and member.size < 256 * 1024:
                data = tar.extractfile(member).read()
            result.append((member.name.lstrip("./"), member, data))
    return result


def check_structure(layout: Path, config: dict, manifest: dict, args: argparse.Namespace) -> None:  # noqa: PLR0912 - one flat list of checks
    """Non-root user, an entrypoint, labels, and no build leftovers or secrets in the non-base layers."""
    image = config["config"]
    user = image.get("User", "")
    if user != args.expect_user:
        fail(f"User is {user!r}, expected {args.expect_user!r}")
    if user.split(":")[0] in ("", "0", "root"):
        fail(f"the image runs as root (User={user!r})")
    if not image.get("Entrypoint"):
        fail("the image has no Entrypoint")
    labels = image.get("Labels", {})
    for key in args.expect_label:
        if not labels.get(key):
            fail(f"label {key} is missing or empty (labels: {sorted(labels)})")
    if config.get("created") != ocilib.CREATED:
        fail(f"created is {config.get('created')!r}, expected the fixed {ocilib.CREATED}")
    layers = manifest["layers"]
    if len(layers) < 3:
        fail(f"expected base, third-party and application layers; found {len(layers)}")
    problems = []
    for index, descriptor in enumerate(layers[1:], start=1):
        is_app = index >= 2  # past base and third-party: data and application layers
        for name, member, data in layer_names(layout, descriptor):
            base = name.split("/")[-1]
            if leftover(name, member, data):
                problems.append(f"layer {index}: build leftover {name}")
            if member.mtime != ocilib.EPOCH or member.uid != 0:
                problems.append(f"layer {index}: {name} has mtime {member.mtime} uid {member.uid}")
            if is_app:
                if base in SECRET_NAMES or base.endswith(SECRET_SUFFIXES):
                    problems.append(f"layer {index}: secret-like file {name}")
                if base.endswith("_test.py") or base in ("conftest.py", "pytest_main.py"):
                    problems.append(f"layer {index}: test file {name}")
                if data and b"PRIVATE KEY-----" in data:
                    problems.append(f"layer {index}: a private key in {name}")
    if problems:
        fail("\n  ".join(["bad files in the image:", *problems[:40]]))
