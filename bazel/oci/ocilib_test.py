"""Tests for the OCI helpers: deterministic layers, gzip, layouts and whiteouts."""

import gzip
import importlib.util
import json
import marshal
import sys
import tarfile
from pathlib import Path

from bazel.oci import assemble_image, deb_rootfs, ocilib, push
from bazel.oci.ocilib import Entry


def _layer(tmp: Path, name: str, entries: list[Entry]) -> tuple[str, str]:
    tar = tmp / f"{name}.tar"
    ocilib.write_tar(entries, tar)
    blob = tmp / f"{name}.tar.gz"
    ocilib.gzip_file(tar, blob)
    descriptor = tmp / f"{name}.json"
    descriptor.write_text(
        json.dumps(
            {
                "mediaType": ocilib.MEDIA_LAYER_GZIP,
                "digest": ocilib.file_digest(blob),
                "size": blob.stat().st_size,
                "diff_id": ocilib.file_digest(tar),
            }
        )
    )
    return str(descriptor), str(blob)


def test_write_tar_is_deterministic_sorted_and_normalized(tmp_path):
    source = tmp_path / "run.sh"
    source.write_text("#!/bin/sh\n")
    source.chmod(0o755)
    entries = [
        Entry("z/last", "file", data=b"z"),
        ocilib.file_entry("a/run.sh", str(source)),
        Entry("a/link", "symlink", link="run.sh"),
    ]
    ocilib.write_tar(entries, tmp_path / "one.tar")
    ocilib.write_tar(list(reversed(entries)), tmp_path / "two.tar")
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["a", "a/link", "a/run.sh", "z", "z/last"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert members[2].mode == 0o755
    assert members[4].mode == 0o644


def test_gzip_is_byte_identical_and_has_no_timestamp(tmp_path):
    data = tmp_path / "data"
    data.write_bytes(b"layer" * 10000)
    ocilib.gzip_file(data, tmp_path / "a.gz")
    ocilib.gzip_file(data, tmp_path / "b.gz")
    first = (tmp_path / "a.gz").read_bytes()
    assert first == (tmp_path / "b.gz").read_bytes()
    assert first[4:8] == b"\0\0\0\0"  # MTIME field
    assert gzip.decompress(first) == data.read_bytes()


def test_layout_round_trip_and_whiteouts(tmp_path):
    lower = _layer(
        tmp_path,
        "lower",
        [Entry("a/b", "file", data=b"b"), Entry("a/c", "file", data=b"c"), Entry("d/e", "file", data=b"e")],
    )
    upper = _layer(
        tmp_path,
        "upper",
        [
            Entry("a/.wh.b", "file"),
            Entry("d/.wh..wh..opq", "file"),
            Entry("d/f", "file", data=b"f"),
            Entry("a/c", "file", data=b"C"),
        ],
    )
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "entrypoint": ["/bin/x"],
                "user": "65532:65532",
                "env": {"A": "1"},
                "labels": {"rev": "{STABLE_GIT_COMMIT}"},
                "created": ocilib.CREATED,
            }
        )
    )
    layout = tmp_path / "layout"
    argv = [
        "--settings",
        str(settings),
        "--output",
        str(layout),
        "--digest-out",
        str(tmp_path / "digest"),
        "--config-out",
        str(tmp_path / "config.json"),
        "--layer",
        *lower,
        "lower",
        "--layer",
        *upper,
        "upper",
    ]
    assert assemble_image.main(argv) == 0
    digest, manifest, config = ocilib.load_layout(layout)
    assert (tmp_path / "digest").read_text().strip() == digest
    assert config["config"]["Labels"] == {"rev": "unknown"}  # not stamped
    assert config["config"]["Env"] == ["A=1"]
    assert len(manifest["layers"]) == 2
    assert len(config["rootfs"]["diff_ids"]) == 2

    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    ocilib.unpack_layers(layout, rootfs)
    files = sorted(str(p.relative_to(rootfs)) for p in rootfs.rglob("*") if p.is_file())
    assert files == ["a/c", "d/f"]
    assert (rootfs / "a/c").read_text() == "C"

    # Same inputs, second layout: same digest.
    again = tmp_path / "again"
    argv[argv.index(str(layout))] = str(again)
    assert assemble_image.main(argv) == 0
    assert ocilib.load_layout(again)[0] == digest


def test_stamping_replaces_placeholders_from_status(tmp_path):
    status = tmp_path / "stable-status.txt"
    status.write_text("STABLE_GIT_COMMIT abc123\nSTABLE_GIT_TREE_STATE clean\n")
    values = assemble_image.read_status([str(status)])
    assert assemble_image.expand("rev-{STABLE_GIT_COMMIT}", values) == "rev-abc123"
    assert assemble_image.expand("{STABLE_GIT_COMMIT}", None) == "unknown"


def test_deb_paths_are_usrmerged():
    assert deb_rootfs.normalize("./lib/x86_64-linux-gnu/libc.so.6") == "usr/lib/x86_64-linux-gnu/libc.so.6"
    assert deb_rootfs.normalize("./usr/bin/python3.14") == "usr/bin/python3.14"
    assert deb_rootfs.normalize("./etc/.hidden") == "etc/.hidden"
    assert deb_rootfs.normalize("./") == ""
    assert deb_rootfs.normalize("./lib") == "lib"


def test_push_recognises_registry_hosts():
    assert push.names_registry("127.0.0.1:5000/mlops/predict")
    assert push.names_registry("registry.example.com/mlops/predict")
    assert push.names_registry("localhost/mlops/predict")
    assert not push.names_registry("mlops/predict")


def test_bytecode_entry_is_an_unchecked_hash_pyc_that_loads_and_is_reproducible(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 6 * 7\n")
    entry = ocilib.file_entry("app/pkg/mod.py", str(source))
    first, second = ocilib.bytecode_entry(entry), ocilib.bytecode_entry(entry)
    assert first.path == f"app/pkg/__pycache__/mod.{sys.implementation.cache_tag}.pyc"
    assert first.data == second.data
    assert first.data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(first.data[4:8], "little") == 0b01  # hash-based, not checked against the source
    namespace: dict = {}
    exec(marshal.loads(first.data[16:]), namespace)
    assert namespace["VALUE"] == 42


def test_bytecode_entry_skips_sources_that_do_not_compile(tmp_path):
    source = tmp_path / "template.py"
    source.write_text("def {{ name }}():\n")
    assert ocilib.bytecode_entry(ocilib.file_entry("app/template.py", str(source))) is None
