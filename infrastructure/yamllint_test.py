"""Lint every YAML file under infrastructure/ and .github/ with yamllint (config: infrastructure/.yamllint.yaml)."""

from pathlib import Path

import pytest
from yamllint import linter
from yamllint.config import YamlLintConfig

CONFIG = Path("infrastructure/.yamllint.yaml")
FILES = sorted(
    p
    for root in (Path("infrastructure"), Path(".github"))
    for p in root.rglob("*")
    if p.suffix in {".yaml", ".yml"} and p != CONFIG
)


@pytest.fixture(scope="module")
def config():
    """The repository's yamllint configuration."""
    return YamlLintConfig(CONFIG.read_text())


def test_the_yaml_files_are_in_the_runfiles():
    # An empty glob would make the lint below pass vacuously.
    assert len(FILES) >= 20, FILES


@pytest.mark.parametrize("path", FILES, ids=str)
def test_yaml_is_clean(path, config):
    problems = list(linter.run(path.read_text(), config, str(path)))
    assert not problems, "\n".join(f"{path}:{p.line}:{p.column}: [{p.level}] {p.message} ({p.rule})" for p in problems)


def test_the_linter_reports_bad_yaml(config):
    problems = list(linter.run("key: value\nkey: again\nlist:\n- a\n    - b\n", config, "bad.yaml"))
    assert problems
