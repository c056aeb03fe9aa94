"""Combine the coverage.py data files that affected py tests left in their outputs into one report.

Each test ran in its own runfiles tree, so measured paths look like
``.../foo_test.runfiles/_main/services/logs.py`` or the resolved source path; they are mapped
back to workspace files before combining, so the report names files the way a developer sees them.
"""

import io
import tempfile
from pathlib import Path

import coverage

DATA_FILE = "python.coverage"
_RUNFILES_MAIN = ".runfiles/_main/"


def data_files(testlogs: Path, tests: list[str]) -> list[Path]:
    """The coverage data files of ``tests`` under ``bazel-testlogs`` (unzipped undeclared outputs)."""
    found = []
    for label in tests:
        if not label.startswith("//") or ":" not in label:
            continue
        package, name = label[2:].split(":", 1)
        candidate = testlogs / package / name / "test.outputs" / DATA_FILE
        if candidate.is_file():
            found.append(candidate)
    return found


def workspace_path(measured: str, workspace: Path | None = None) -> str | None:
    """The workspace-relative path of a measured file, or None when it is not the workspace's.

    Runfiles are symlinks into the source tree: coverage.py records either the resolved
    source path (under ``workspace``) or the path inside the runfiles tree.
    """
    if workspace is not None:
        root = str(workspace.resolve()) + "/"
        if measured.startswith(root):
            return measured[len(root) :]
    _, sep, rel = measured.rpartition(_RUNFILES_MAIN)
    return rel if sep else None


def combine(files: list[Path], workspace: Path, out: Path) -> int:
    """Merge ``files`` into ``out`` with workspace paths; returns how many source files were measured."""
    combined = coverage.CoverageData(basename=str(out))
    for file in files:
        data = coverage.CoverageData(basename=str(file))
        data.read()
        for measured in data.measured_files():
            rel = workspace_path(measured, workspace)
            if rel is None or not (workspace / rel).is_file():
                continue
            combined.add_lines({str(workspace / rel): data.lines(measured) or []})
    combined.write()
    return len(combined.measured_files())


def markdown(testlogs: Path, tests: list[str], workspace: Path) -> str:
    """A markdown section with the combined line coverage of the affected py tests' code."""
    files = data_files(testlogs, tests)
    if not files:
        return "## Python coverage\n\nNo coverage data (no affected py_pytest tests ran).\n"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "combined.coverage"
        if not combine(files, workspace, out):
            return "## Python coverage\n\nThe affected tests measured no repository code.\n"
        cov = coverage.Coverage(data_file=str(out))
        cov.load()
        table = io.StringIO()
        total = cov.report(file=table, output_format="markdown", ignore_errors=True)
    body = table.getvalue().replace(str(workspace) + "/", "")
    return f"## Python coverage\n\n{total:.1f}% of lines, from {len(files)} test(s).\n\n{body}\n"
