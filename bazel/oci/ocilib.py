"""Small, stdlib-only helpers for OCI images: deterministic layer tars, blobs and layouts."""

import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import stat
import sys
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib._bootstrap_external import _code_to_hash_pyc  # the bytes py_compile writes, without a file
from pathlib import Path

from tools.hashing import sha256_file

# Every file in every layer gets this mtime; images carry the same fixed "created" time.
EPOCH = 0
CREATED = "1970-01-01T00:00:00Z"

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"

# gzip is pinned to Python's zlib at this level with mtime=0 and no file name in the header:
# the same input gives the same bytes on every run (other gzip tools differ, even in the
# header's OS byte). Level 1, the fastest, as go-containerregistry (crane, ko) writes layers:
# predict's 396 MB third-party layer compresses in 4.2 s of CPU to 133 MB, against 12.2 s to
# 116 MB at level 6. Compressing was 76 s of a fresh `bazel test //...` on 2 cores at level 6.
GZIP_LEVEL = 1


@dataclass(frozen=True)
class Entry:
    """One member of a layer: a directory, regular file, symlink or hard link."""

    path: str  # relative, no leading "./" or "/"
    kind: str  # "dir", "file", "symlink", "hardlink"
    mode: int = 0o644
    data: bytes = b""
    source: str = ""  # a file to read the content from instead of `data`
    link: str = ""
    uid: int = 0
    gid: int = 0


def file_digest(path: str | Path) -> str:
    """Returns the OCI digest, "sha256:<hex>", of a file."""
    return "sha256:" + sha256_file(path)


def sha256_bytes(data: bytes) -> str:
    """Returns "sha256:<hex>" of bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tarinfo(entry: Entry, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path + ("/" if entry.kind == "dir" else ""))
    info.mtime = EPOCH
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    info.mode = entry.mode & 0o7777
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif entry.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, entry.link
    elif entry.kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, entry.link
    else:
        info.type, info.size = tarfile.REGTYPE, size
    return info


def with_parents(entries: Iterable[Entry]) -> list[Entry]:
    """Adds a 0755 root-owned directory entry for every missing parent; returns entries sorted by path."""
    by_path = {entry.path: entry for entry in entries}
    if "." in by_path or "" in by_path or any(path.startswith(("/", "../")) for path in by_path):
        raise ValueError("layer entries need relative paths inside the root")
    for path in list(by_path):
        parent = os.path.dirname(path)
        while parent and parent not in by_path:
            by_path[parent] = Entry(parent, "dir", 0o755)
            parent = os.path.dirname(parent)
    return [by_path[path] for path in sorted(by_path)]


def write_tar(entries: Iterable[Entry], output: str | Path) -> None:
    """Writes a deterministic POSIX tar: sorted paths, mtime 0, numeric owners, no user names."""
    with open(output, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in with_parents(entries):
            if entry.kind == "file":
                if entry.source:
                    size = os.path.getsize(entry.source)
                    with open(entry.source, "rb") as handle:
                        tar.addfile(_tarinfo(entry, size), handle)
                else:
                    tar.addfile(_tarinfo(entry, len(entry.data)), io.BytesIO(entry.data))
            else:
                tar.addfile(_tarinfo(entry, 0))


def gzip_file(source: str | Path, output: str | Path) -> None:
    """Compresses a file with the pinned gzip settings."""
    with (
        open(source, "rb") as src,
        open(output, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as out,
    ):
        shutil.copyfileobj(src, out, 1 << 20)


def tree_entries(root: str | Path, prefix: str) -> list[Entry]:
    """Entries for every file under a directory (following symlinks), placed under `prefix`."""
    result = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            source = os.path.join(dirpath, name)
            dest = os.path.normpath(os.path.join(prefix, rel, name))
            result.append(file_entry(dest, source))
    return result


def bytecode_entry(entry: Entry) -> Entry | None:
    """The ``__pycache__`` entry holding ``entry``'s bytecode, or None when the source does not compile.

    Unchecked-hash pycs (PEP 552, ``PycInvalidationMode.UNCHECKED_HASH``): no timestamp, so the
    layer is reproducible, and the interpreter never re-reads the source to validate them. The
    code object names the file by its path in the image, as a traceback there should. The cache
    tag is this interpreter's, which must be the image's Python (both are sid's 3.14).
    """
    if entry.source:
        with open(entry.source, "rb") as handle:
            source = handle.read()
    else:
        source = entry.data
    try:
        code = compile(source, "/" + entry.path, "exec", dont_inherit=True)
    except SyntaxError, ValueError:
        return None  # e.g. a template or a test fixture that is not meant to be imported
    directory, name = os.path.split(entry.path)
    cache = os.path.join(directory, "__pycache__", f"{name[:-3]}.{sys.implementation.cache_tag}.pyc")
    data = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))
    return Entry(cache, "file", 0o644, data=data)


def file_entry(dest: str, source: str) -> Entry:
    """A regular-file entry whose mode is 0755 if the source is executable, else 0644."""
    executable = os.stat(source).st_mode & stat.S_IXUSR
    return Entry(dest, "file", 0o755 if executable else 0o644, source=source)


# --- reading layouts -------------------------------------------------------------------------


def read_json(path: str | Path) -> dict:
    """Loads a JSON file."""
    return json.loads(Path(path).read_text())


def blob_path(layout: str | Path, digest: str) -> Path:
    """The path of a blob inside an OCI layout directory."""
    algorithm, hexdigest = digest.split(":", 1)
    return Path(layout, "blobs", algorithm, hexdigest)


def load_layout(layout: str | Path) -> tuple[str, dict, dict]:
    """Returns (manifest digest, manifest, config) of the single image in an OCI layout."""
    index = read_json(Path(layout, "index.json"))
    if len(index["manifests"]) != 1:
        raise ValueError(f"{layout}: expected one manifest in index.json, found {len(index['manifests'])}")
    digest = index["manifests"][0]["digest"]
    manifest = read_json(blob_path(layout, digest))
    config = read_json(blob_path(layout, manifest["config"]["digest"]))
    return digest, manifest, config


def unpack_layers(layout: str | Path, rootfs: str | Path) -> None:
    """Applies the image's layers in order onto `rootfs`, honouring OCI whiteouts.

    Args:
        layout: an OCI layout directory holding one image.
        rootfs: an empty directory to fill.
    """
    _, manifest, _ = load_layout(layout)
    rootfs = Path(rootfs)
    for layer in manifest["layers"]:
        mode = "r:gz" if layer["mediaType"].endswith("gzip") else "r:"
        with tarfile.open(blob_path(layout, layer["digest"]), mode) as tar:
            members = []
            for member in tar.getmembers():
                name = os.path.normpath(member.name.lstrip("/"))
                if name.startswith(".."):
                    raise ValueError(f"layer {layer['digest']}: path escapes the root: {member.name}")
                head, base = os.path.split(name)
                if base == ".wh..wh..opq":
                    target = rootfs / head
                    if target.is_dir():
                        for child in target.iterdir():
                            _remove(child)
                    continue
                if base.startswith(".wh."):
                    _remove(rootfs / head / base[4:])
                    continue
                _remove_if_conflicting(rootfs / name, member)
                members.append(member)
            tar.extractall(rootfs, members=members, filter="fully_trusted", numeric_owner=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _remove_if_conflicting(path: Path, member: tarfile.TarInfo) -> None:
    if not (path.exists() or path.is_symlink()):
        return
    if member.isdir() and path.is_dir() and not path.is_symlink():
        return
    _remove(path)
