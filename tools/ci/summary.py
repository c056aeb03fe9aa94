"""The CI run's markdown summary: the verdict, each step (status, time, detail), commands, affected set, model report, coverage."""

import time

from tools.affected.api import kinds, summary_markdown
from tools.ci.pipeline import Run

_ICONS = {"passed": "passed", "failed": "**FAILED**", "skipped": "skipped"}


def markdown(run: Run, total: float | None = None) -> str:
    """The summary of a finished run.

    Args:
        run: the run.
        total: its wall time in seconds (default: since the run started).
    """
    total = time.monotonic() - run.started if total is None else total
    failed = run.failed
    verdict = "failed: " + ", ".join(s.name for s in failed) if failed else "passed"
    lines = [
        f"# CI: {verdict}",
        "",
        f"Total {total:.1f} s.",
        "",
        "| Step | Status | Time | Detail |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {s.name} | {_ICONS[s.status]} | {s.seconds:.1f} s | {s.detail.replace('|', '/')} |" for s in run.steps
    ]
    lines.append("")
    lines.append("<details><summary>Commands</summary>\n")
    lines += [f"- `{s.command}`" for s in run.steps if s.command]
    lines.append("\n</details>\n")
    md = "\n".join(lines) + "\n"
    if run.affected is not None:
        md += summary_markdown(run.affected, kinds.ALL)
    if run.model_report_md:
        md += "\n" + run.model_report_md
    if run.coverage_md:
        md += "\n" + run.coverage_md
    return md
