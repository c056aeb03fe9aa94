"""Targets see the standard library and their declared deps, and nothing installed elsewhere."""

import importlib.util
import os
import sys
import sysconfig


def test_undeclared_third_party_packages_cannot_be_imported():
    # These are in the repo's lock (so "installed" for the build) but not in this test's deps.
    for name in ("pandas", "numpy", "fastapi", "yaml"):
        assert importlib.util.find_spec(name) is None, f"{name} is importable without being declared"


def test_declared_dep_is_importable():
    assert importlib.util.find_spec("pytest") is not None


def test_no_site_packages_on_the_path():
    stdlib = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    runfiles = os.path.realpath(os.environ["RUNFILES_DIR"]) if "RUNFILES_DIR" in os.environ else None
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else os.getcwd()
        if runfiles and real.startswith(runfiles):
            continue
        if any(real.startswith(os.path.realpath(s)) for s in stdlib if s):
            continue
        if real.startswith(os.path.realpath(os.getcwd())):
            continue  # the test's own runfiles tree, reached through the working directory
        assert "site-packages" not in real, f"site dir on sys.path: {entry}"
        assert "dist-packages" not in real, f"site dir on sys.path: {entry}"


def test_interpreter_is_the_build_roots_python_3_14():
    assert sys.version_info[:2] == (3, 14)
    assert sys.flags.no_site == 1
