"""The production alert rules checked and unit-tested by promtool, and a check that every alert is tested."""

import os
import shutil
from pathlib import Path

import pytest
import yaml

from infrastructure.monitoring import promtool
from infrastructure.monitoring.extract_rules import alert_names

# promtool unit-test files; their `rule_files` name rules.yaml in the same folder.
TESTS = [Path("infrastructure/monitoring/alerts_test.yaml"), Path("infrastructure/monitoring/drift_alerts_test.yaml")]


@pytest.fixture(scope="module")
def rules_file() -> Path:
    """The rule file extracted from the PrometheusRule by :rules (a build step)."""
    path = Path(os.environ["RULES_FILE"])
    assert path.is_file(), path
    return path


@pytest.fixture
def test_dir(tmp_path, rules_file) -> Path:
    """The unit tests next to the rules under the name their `rule_files` uses."""
    shutil.copyfile(rules_file, tmp_path / "rules.yaml")
    for tests in TESTS:
        shutil.copyfile(tests, tmp_path / tests.name)
    return tmp_path


def test_promtool_check_rules(rules_file):
    result = promtool.run("check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules(test_dir):
    result = promtool.run("test", "rules", *(tests.name for tests in TESTS), cwd=test_dir)
    # promtool names the failing test group, alert and time, with the expected and got alerts.
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case(rules_file):
    alerts = alert_names(yaml.safe_load(rules_file.read_text())["groups"])
    assert len(alerts) >= 10
    cases = [
        case
        for tests in TESTS
        for group in yaml.safe_load(tests.read_text())["tests"]
        for case in group["alert_rule_test"]
    ]
    fires = {case["alertname"] for case in cases if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    assert set(alerts) - fires == set(), "alerts without a test that fires them"
    assert set(alerts) - quiet == set(), "alerts without a test where they must not fire"
    assert (fires | quiet) - set(alerts) == set(), "tests of alerts the rules no longer define"
