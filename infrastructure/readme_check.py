"""The documentation contract: which sections every folder's README.md must have."""

import re

# The one place the required sections are defined. Each is a level-2 heading; any of the
# listed titles satisfies it, and it must have some text. The Test section must show the
# `bazel test` command that tests the folder.
REQUIRED_SECTIONS = {
    "Usage": ("Usage", "Run"),
    "Test": ("Test", "Tests", "Testing"),
}
TEST_COMMAND = "bazel test"


def sections(text: str) -> dict[str, str]:
    """Level-2 headings of a Markdown text mapped to the text under them (code fences respected)."""
    found: dict[str, list[str]] = {}
    current = None
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if heading:
            current = heading.group(1).strip()
            found.setdefault(current, [])
        elif current is not None:
            found[current].append(line)
    return {title: "\n".join(body).strip() for title, body in found.items()}


def check_readme(text: str) -> list[str]:
    """Problems with one README: a missing title, missing or empty sections, no test command."""
    problems = []
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not re.match(r"^#\s+\S", first):
        problems.append("the first line must be a title (`# ...`)")
    present = sections(text)
    for section, titles in REQUIRED_SECTIONS.items():
        title = next((t for t in titles if t in present), None)
        if title is None:
            problems.append(f"no `## {section}` section (accepted titles: {', '.join(titles)})")
        elif not present[title]:
            problems.append(f"section `## {title}` is empty")
        elif section == "Test" and TEST_COMMAND not in present[title]:
            problems.append(f"section `## {title}` does not show a `{TEST_COMMAND} ...` command")
    return problems
