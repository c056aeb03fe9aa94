"""The affected-targets answer as text, JSON, or GitHub Actions outputs plus a job-summary table."""

import json

from tools.affected import kinds
from tools.affected.result import Result


def as_text(result: Result, kind: str) -> str:
    """Labels only, one per line; ``//...`` when everything is affected but could not be listed."""
    return "".join(f"{label}\n" for label in result.labels(kind))


def as_json(result: Result, kind: str) -> str:
    """Every affected target of ``kind`` with its kind, why it is affected and whether it runs by default."""
    selected = {t.label for t in result.selected(kind)}
    doc = {
        "exact": result.exact,
        "fallback_reason": result.reason,
        "everything": not result.exact,
        "base": result.base,
        "base_commit": result.base_commit,
        "head": result.head,
        "kind": kind,
        "changed_files": [
            {"status": c.status, "path": c.path, **({"old_path": c.old_path} if c.old_path else {})}
            for c in result.changes
        ],
        "targets": [
            {
                "label": t.label,
                "kind": t.rule_class,
                "categories": t.categories,
                "manual": t.manual,
                "selected": t.label in selected,
                "why": {"changed": t.cause, "path": t.path},
            }
            for t in result.targets
            if t.label in selected or (kind == "all" or kind in t.categories)
        ],
        "selected": sorted(selected) if not result.all_targets_unknown else ["//..."],
        "removed": result.removed,
        "timings_s": result.timings,
    }
    return json.dumps(doc, indent=2) + "\n"


def _multiline(name: str, lines: list[str]) -> str:
    delimiter = "AFFECTED_EOF"
    return f"{name}<<{delimiter}\n" + "".join(f"{line}\n" for line in lines) + f"{delimiter}\n"


def as_github_outputs(result: Result, kind: str) -> str:
    """``name=value`` lines for ``$GITHUB_OUTPUT`` (multi-line values in heredoc form)."""
    labels = result.labels
    out = [
        f"exact={'true' if result.exact else 'false'}",
        f"everything={'false' if result.exact else 'true'}",
        f"count={len(labels(kind))}",
        f"any={'true' if labels(kind) else 'false'}",
        f"tests_count={len(labels('test'))}",
        f"images_count={len(labels('image'))}",
    ]
    text = "".join(f"{line}\n" for line in out)
    text += _multiline("targets", labels(kind))
    text += _multiline("tests", labels("test"))
    text += _multiline("images", labels("image"))
    text += _multiline("pushes", labels("push"))
    return text


def summary_markdown(result: Result, kind: str) -> str:
    """A job-summary table: each selected target, its kind and why."""
    lines = ["## Affected targets", ""]
    if not result.exact:
        lines += [f"**Everything** is affected: {result.reason}", ""]
    lines.append(
        f"Base `{result.base}` (`{result.base_commit[:12]}`), head: {result.head}; "
        f"{len(result.changes)} changed file(s)."
    )
    lines.append("")
    selected = result.selected(kind)
    manual = [t for t in result.targets if t.manual and kinds.matches(kind, set(t.categories))]
    if not selected:
        lines.append("No targets affected.")
    else:
        lines += ["| Target | Kind | Why |", "| --- | --- | --- |"]
        for t in selected:
            via = f" via `{t.path[1]}`" if len(t.path) > 2 else ""
            lines.append(f"| `{t.label}` | {t.rule_class} | {t.cause.replace('|', '/')}{via} |")
    if manual and kind != "all":
        lines += ["", "Affected but tagged `manual` (not run): " + ", ".join(f"`{t.label}`" for t in manual)]
    return "\n".join(lines) + "\n"
