"""Documentation completeness: every README given in $READMES has the sections readme_check requires."""

import os
from pathlib import Path

import pytest

from infrastructure.readme_check import check_readme

READMES = sorted(os.environ.get("READMES", "").split())


def test_the_readmes_are_given():
    assert "infrastructure/README.md" in READMES, READMES
    assert "tools/README.md" in READMES, READMES


@pytest.mark.parametrize("path", READMES)
def test_readme_has_the_required_sections(path):
    problems = check_readme(Path(path).read_text())
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_an_incomplete_readme_is_reported():
    text = "intro\n\n## Usage\n\n```\n## Test\n```\n\n## Tests\n\nrun it\n"
    assert check_readme(text) == [
        "the first line must be a title (`# ...`)",
        "section `## Tests` does not show a `bazel test ...` command",
    ]


def test_an_empty_or_missing_section_is_reported():
    assert check_readme("# T\n\n## Run\n\n## Test\nbazel test //x/...\n") == ["section `## Run` is empty"]
    assert check_readme("# T\n\n## Test\nbazel test //x/...\n") == [
        "no `## Usage` section (accepted titles: Usage, Run)"
    ]
