"""Tests of coverage collection: real coverage.py data, written the way pytest_main writes it."""

import importlib
import sys

import coverage

from tools.ci.coverage_report import data_files, markdown, workspace_path


def _measure(runfiles_main, data_file, call):
    """Import and call a module from a runfiles-like tree under coverage, as a test would."""
    cov = coverage.Coverage(data_file=str(data_file), source=[str(runfiles_main)])
    sys.path.insert(0, str(runfiles_main))
    cov.start()
    try:
        module = importlib.import_module("pkg.calc")
        call(module)
    finally:
        cov.stop()
        cov.save()
        sys.path.remove(str(runfiles_main))
        sys.modules.pop("pkg.calc", None)
        sys.modules.pop("pkg", None)


SOURCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


def test_two_tests_combine_into_one_report_with_workspace_paths(tmp_path):
    workspace = tmp_path / "ws"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "calc.py").write_text(SOURCE)
    testlogs = tmp_path / "testlogs"
    for name, call in (("add_test", lambda m: m.add(1, 2)), ("sub_test", lambda m: m.sub(1, 2))):
        main = tmp_path / "bin" / "pkg" / f"{name}.runfiles" / "_main"
        (main / "pkg").mkdir(parents=True)
        (main / "pkg" / "__init__.py").write_text("")
        (main / "pkg" / "calc.py").write_text(SOURCE)
        outputs = testlogs / "pkg" / name / "test.outputs"
        outputs.mkdir(parents=True)
        _measure(main, outputs / "python.coverage", call)

    assert len(data_files(testlogs, ["//pkg:add_test", "//pkg:sub_test", "//pkg:not_run"])) == 2
    both = markdown(testlogs, ["//pkg:add_test", "//pkg:sub_test"], workspace)
    assert "100.0% of lines, from 2 test(s)" in both
    assert "pkg/calc.py" in both
    assert str(workspace) not in both
    one = markdown(testlogs, ["//pkg:add_test"], workspace)
    assert "from 1 test(s)" in one
    assert "100.0%" not in one


def test_no_data_is_said_plainly(tmp_path):
    assert "No coverage data" in markdown(tmp_path, ["//pkg:x_test"], tmp_path)


def test_runfiles_paths_map_back_to_the_workspace():
    assert workspace_path("/x/bin/svc/t.runfiles/_main/svc/app/main.py") == "svc/app/main.py"
    assert workspace_path("/usr/lib/python3/json/__init__.py") is None


def test_resolved_source_paths_map_back_to_the_workspace(tmp_path):
    assert workspace_path(f"{tmp_path.resolve()}/svc/logs.py", tmp_path) == "svc/logs.py"
    assert workspace_path("/elsewhere/svc/logs.py", tmp_path) is None
