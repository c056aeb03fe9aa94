"""pip_python: which wheel it picks, how it downloads and checks it (from a real index on 127.0.0.1), and the bytecode it ships."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from packaging.tags import Tag
from packaging.version import Version

from bazel.python import pip_python

SHA_A = "a" * 64
SHA_B = "b" * 64
LINUX = Tag("cp314", "cp314", "manylinux_2_28_x86_64")
PURE = Tag("py3", "none", "any")
PY314 = Version("3.14.0")


def index_entry(filename, sha256, requires_python=None):
    entry = {"filename": filename, "hashes": {"sha256": sha256}, "url": f"http://x/{filename}"}
    if requires_python:
        entry["requires-python"] = requires_python
    return entry


def test_only_exact_pins_with_hashes_take_the_fast_path():
    line = f"Scikit_Learn==1.8.0 --hash=sha256:{SHA_A} --hash=sha256:{SHA_B}"
    assert pip_python.parse_pinned_requirement(line) == ("Scikit_Learn", "1.8.0", frozenset({SHA_A, SHA_B}))
    for line in (
        "pandas==2.3.3",  # no hash: pip decides what to trust
        f"pandas>=2 --hash=sha256:{SHA_A}",
        f"pandas[performance]==2.3.3 --hash=sha256:{SHA_A}",
        f'pandas==2.3.3 ; python_version < "3.10" --hash=sha256:{SHA_A}',
        f"pandas @ https://example.org/pandas.whl --hash=sha256:{SHA_A}",
    ):
        assert pip_python.parse_pinned_requirement(line) is None, line


def test_index_names_are_normalized_as_pep_503_says():
    assert pip_python.normalized_name("Scikit_Learn") == "scikit-learn"
    assert pip_python.normalized_name("zope.interface") == "zope-interface"


def test_the_most_preferred_supported_tag_wins_among_pinned_wheels():
    files = [
        index_entry("demo-1.0.tar.gz", SHA_A),
        index_entry("demo-1.0-py3-none-any.whl", SHA_A),
        index_entry("demo-1.0-cp314-cp314-manylinux_2_28_x86_64.whl", SHA_B),
        index_entry("demo-1.0-cp314-cp314-win_amd64.whl", SHA_A),
    ]
    chosen = pip_python.choose_wheel(files, "1.0", {SHA_A, SHA_B}, [LINUX, PURE], PY314)
    assert chosen["filename"] == "demo-1.0-cp314-cp314-manylinux_2_28_x86_64.whl"


def test_a_wheel_the_lock_does_not_pin_is_never_chosen():
    files = [index_entry("demo-1.0-cp314-cp314-manylinux_2_28_x86_64.whl", SHA_B)]
    assert pip_python.choose_wheel(files, "1.0", {SHA_A}, [LINUX, PURE], PY314) is None


def test_other_versions_unsupported_tags_and_requires_python_rule_a_wheel_out():
    files = [
        index_entry("demo-2.0-py3-none-any.whl", SHA_A),
        index_entry("demo-1.0-cp314-cp314-win_amd64.whl", SHA_A),
        index_entry("demo-1.0-py3-none-any.whl", SHA_A, requires_python=">=3.15"),
    ]
    assert pip_python.choose_wheel(files, "1.0", {SHA_A}, [LINUX, PURE], PY314) is None
    files.append(index_entry("demo-1.0-py3-none-any.whl", SHA_A, requires_python=">=3.10"))
    assert pip_python.choose_wheel(files, "1.0", {SHA_A}, [LINUX, PURE], PY314) is files[-1]


def test_the_highest_build_number_wins_a_tie():
    files = [index_entry("demo-1.0-1-py3-none-any.whl", SHA_A), index_entry("demo-1.0-2-py3-none-any.whl", SHA_A)]
    assert pip_python.choose_wheel(files, "1.0", {SHA_A}, [PURE], PY314) is files[1]


@pytest.fixture
def index():
    """A PEP 691 index on 127.0.0.1: `pages` maps a project to its files, `blobs` a path to its bytes."""
    pages, blobs = {}, {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            project = self.path.strip("/").removeprefix("simple/")
            if self.path.startswith("/simple/") and project in pages:
                body, content_type = json.dumps({"files": pages[project]}).encode(), pip_python.PEP691_JSON
            elif self.path in blobs:
                body, content_type = blobs[self.path], "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def publish(project, filename, content, pinned_sha256=None, relative_url=False):
        blobs[f"/files/{filename}"] = content
        sha256 = pinned_sha256 or hashlib.sha256(content).hexdigest()
        url = f"../../files/{filename}" if relative_url else f"{base}/files/{filename}"
        entry = {"filename": filename, "hashes": {"sha256": sha256}, "url": url}
        pages.setdefault(project, []).append(entry)
        return sha256

    yield f"{base}/simple", publish
    server.shutdown()
    server.server_close()


def test_the_pinned_wheel_is_downloaded_from_the_index(index, tmp_path):
    index_url, publish = index
    sha256 = publish("tiny-pkg", "tiny_pkg-1.0-py3-none-any.whl", b"wheel bytes")
    path = pip_python.fetch_wheel(f"Tiny_Pkg==1.0 --hash=sha256:{sha256}", index_url, str(tmp_path))
    assert path == str(tmp_path / "tiny_pkg-1.0-py3-none-any.whl")
    assert (tmp_path / "tiny_pkg-1.0-py3-none-any.whl").read_bytes() == b"wheel bytes"


def test_a_file_url_relative_to_its_page_is_resolved_against_it(index, tmp_path):
    index_url, publish = index
    sha256 = publish("tiny-pkg", "tiny_pkg-1.0-py3-none-any.whl", b"relative", relative_url=True)
    path = pip_python.fetch_wheel(f"tiny-pkg==1.0 --hash=sha256:{sha256}", index_url, str(tmp_path))
    assert (tmp_path / os.path.basename(path)).read_bytes() == b"relative"


def test_a_download_that_does_not_match_the_lock_is_refused_and_removed(index, tmp_path):
    index_url, publish = index
    # The index claims the pinned hash, but serves other bytes (a tampered mirror).
    publish("tiny-pkg", "tiny_pkg-1.0-py3-none-any.whl", b"tampered", pinned_sha256=SHA_A)
    with pytest.raises(pip_python.LockMismatch, match="does not pin"):
        pip_python.fetch_wheel(f"tiny-pkg==1.0 --hash=sha256:{SHA_A}", index_url, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_pip_takes_over_where_the_index_has_no_usable_wheel(index, tmp_path):
    index_url, publish = index
    sha256 = publish("tiny-pkg", "tiny-pkg-1.0.tar.gz", b"an sdist")
    assert pip_python.fetch_wheel(f"tiny-pkg==1.0 --hash=sha256:{sha256}", index_url, str(tmp_path)) is None
    # A project the index does not know (404) also leaves it to pip, as does an unpinned line.
    assert pip_python.fetch_wheel(f"absent==1.0 --hash=sha256:{SHA_A}", index_url, str(tmp_path)) is None
    assert pip_python.fetch_wheel("tiny-pkg==1.0", index_url, str(tmp_path)) is None
    assert list(tmp_path.iterdir()) == []


# The library rules_python 0.22.1 generates, as far as pip_python edits it.
GENERATED_BUILD = """py_library(
    name = "pkg",
    srcs = glob(["site-packages/**/*.py"], exclude=[], allow_empty = True),
    data = [] + glob(["site-packages/**/*"], exclude=["**/* *", "**/*.py", "**/*.pyc"]),
)
"""


def make_repository(root):
    package = root / "site-packages" / "demo"
    (package / "tests").mkdir(parents=True)
    for index in range(6):
        (package / f"m{index}.py").write_text(f"VALUE = {{'n': {index}, 'tags': ('a', 'b')}}\n")
    (package / "broken.py").write_text("def (:\n")  # a template that is not Python: no .pyc, no error
    (package / "tests" / "test_m0.py").write_text("def test_m0():\n    pass\n")
    (root / "BUILD.bazel").write_text(GENERATED_BUILD)


def test_bytecode_is_compiled_next_to_the_sources_but_not_for_test_suites(tmp_path):
    make_repository(tmp_path)
    pip_python.compile_bytecode(str(tmp_path))
    cache = tmp_path / "site-packages" / "demo" / "__pycache__"
    compiled = sorted(p.name.split(".")[0] for p in cache.iterdir())
    assert compiled == [f"m{index}" for index in range(6)]
    assert not (tmp_path / "site-packages" / "demo" / "tests" / "__pycache__").exists()


def test_bytecode_is_the_same_bytes_in_every_repository(tmp_path):
    digests = []
    for name in ("one", "two"):
        make_repository(tmp_path / name)
        pip_python.compile_bytecode(str(tmp_path / name))
        cache = tmp_path / name / "site-packages" / "demo" / "__pycache__"
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in cache.iterdir()})
    assert digests[0] == digests[1]


def test_the_library_keeps_the_bytecode_and_leaves_out_test_suites(tmp_path):
    make_repository(tmp_path)
    pip_python.keep_bytecode_in_library(str(tmp_path))
    pip_python.leave_out_test_suites(str(tmp_path))
    build = (tmp_path / "BUILD.bazel").read_text()
    suites = '"site-packages/*/**/tests/**"'
    assert f'glob(["site-packages/**/*.py"], exclude=[{suites}, ]' in build
    assert (
        f'glob(["site-packages/**/*"], exclude=[{suites}, "**/* *", "**/*.py", "**/__pycache__/*.opt-*.pyc"])' in build
    )


def test_only_folders_inside_a_package_named_tests_are_test_suites():
    assert pip_python.in_a_test_suite("site-packages/pandas/tests/frame/test_api.py")
    assert pip_python.in_a_test_suite("site-packages/scipy/linalg/tests/test_basic.py")
    assert not pip_python.in_a_test_suite("site-packages/numpy/testing/utils.py")
    assert not pip_python.in_a_test_suite("site-packages/pytest_tests.py")
    # A wheel whose top-level package is called tests: it is the package itself, not a suite.
    assert not pip_python.in_a_test_suite("site-packages/tests/conftest.py")


def test_an_unexpected_generated_build_file_stops_the_fetch(tmp_path):
    make_repository(tmp_path)
    (tmp_path / "BUILD.bazel").write_text('py_library(name = "pkg")\n')
    with pytest.raises(SystemExit, match="no longer contains"):
        pip_python.keep_bytecode_in_library(str(tmp_path))


def test_other_uses_of_the_interpreter_pass_through():
    script = os.path.join(os.path.dirname(pip_python.__file__), "pip_python.py")
    result = subprocess.run(
        [sys.executable, script, "-c", "import sys; print(sys.argv[1:])", "a", "b"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "['a', 'b']"


def test_the_pkg_resources_stand_in_parses_requires_dist_as_the_installer_reads_it(monkeypatch):
    monkeypatch.delitem(sys.modules, "pkg_resources", raising=False)
    pip_python.stand_in_for_pkg_resources()
    import pkg_resources  # the stand-in just put in sys.modules

    # What rules_python's wheel.py does with each Requires-Dist line: .name, .marker.evaluate.
    plain = pkg_resources.Requirement("Jinja2>=3.0")
    optional = pkg_resources.Requirement('pyarrow>=14; extra == "parquet"')
    assert (plain.name, plain.marker) == ("Jinja2", None)
    assert optional.name == "pyarrow"
    assert optional.marker.evaluate({"extra": "parquet"})
    assert not optional.marker.evaluate({"extra": ""})


def test_the_stand_in_never_replaces_a_pkg_resources_already_imported(monkeypatch):
    already = type(sys)("pkg_resources")
    monkeypatch.setitem(sys.modules, "pkg_resources", already)
    pip_python.stand_in_for_pkg_resources()
    assert sys.modules["pkg_resources"] is already
