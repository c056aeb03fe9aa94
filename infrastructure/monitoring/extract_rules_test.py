"""extract_rules: groups out of a PrometheusRule, test overlays, and clear errors."""

import pytest
import yaml

from infrastructure.monitoring.extract_rules import RuleExtractionError, apply_overlay, main, rule_groups

MANIFEST = {
    "kind": "PrometheusRule",
    "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}, {"record": "r"}]}]},
}


def test_extracts_the_groups_unchanged(tmp_path):
    (tmp_path / "rule.yaml").write_text(yaml.safe_dump(MANIFEST))
    assert main(["--manifest", str(tmp_path / "rule.yaml"), "--out", str(tmp_path / "out.yaml")]) == 0
    assert yaml.safe_load((tmp_path / "out.yaml").read_text()) == {"groups": MANIFEST["spec"]["groups"]}


def test_overlay_shortens_timings_without_touching_the_input():
    groups = rule_groups(MANIFEST)
    shortened = apply_overlay(groups, {"interval": "1s", "for": {"A": "3s"}})
    assert shortened[0]["interval"] == "1s"
    assert shortened[0]["rules"][0] == {"alert": "A", "expr": "up == 0", "for": "3s"}
    assert groups[0]["rules"][0]["for"] == "5m"


def test_overlay_naming_an_unknown_alert_fails():
    with pytest.raises(RuleExtractionError, match="Typo"):
        apply_overlay(rule_groups(MANIFEST), {"for": {"Typo": "1s"}})
    with pytest.raises(RuleExtractionError, match="unknown overlay keys"):
        apply_overlay(rule_groups(MANIFEST), {"expr": {}})


def test_wrong_kind_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "rule.yaml").write_text(yaml.safe_dump({"kind": "ConfigMap"}))
    assert main(["--manifest", str(tmp_path / "rule.yaml"), "--out", str(tmp_path / "out.yaml")]) == 1
    assert "expected kind PrometheusRule" in capsys.readouterr().err
