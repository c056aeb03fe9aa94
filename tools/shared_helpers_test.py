"""Tests of the small helpers shared across the tree: user paths, free ports, file hashes."""

import hashlib
import socket
from pathlib import Path

from tools.hashing import sha256_file
from tools.ports import free_port
from tools.user_paths import user_path, working_directory


def test_relative_paths_are_the_users_under_bazel_run(monkeypatch, tmp_path):
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(tmp_path))
    assert working_directory() == tmp_path
    assert user_path("batch.csv") == tmp_path / "batch.csv"
    assert user_path(Path("sub/x.json")) == tmp_path / "sub" / "x.json"
    assert user_path("/abs/file") == Path("/abs/file")


def test_outside_bazel_run_paths_are_relative_to_the_cwd(monkeypatch, tmp_path):
    monkeypatch.delenv("BUILD_WORKING_DIRECTORY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert user_path("batch.csv") == tmp_path / "batch.csv"
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", "")  # set but empty counts as unset
    assert user_path("batch.csv") == tmp_path / "batch.csv"


def test_a_free_port_can_be_bound_on_loopback():
    port = free_port()
    assert 0 < port < 65536
    with socket.create_server(("127.0.0.1", port)) as server:
        assert server.getsockname()[1] == port


def test_sha256_file_matches_hashlib_across_chunk_boundaries(tmp_path):
    data = bytes(range(256)) * 5000  # larger than one read
    (tmp_path / "blob").write_bytes(data)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(str(tmp_path / "empty")) == hashlib.sha256(b"").hexdigest()
