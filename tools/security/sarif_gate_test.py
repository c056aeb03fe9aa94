"""Tests of the SARIF baseline gate: accepted, new and stale findings; entries without a reason."""

import json
from pathlib import Path

import pytest

from tools.security import sarif_gate


def _sarif(tmp_path: Path, results: list[tuple[str, str, int, str]]) -> Path:
    document = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "t", "rules": [{"id": "B105", "helpUri": "https://example.invalid/b105"}]}},
                "results": [
                    {
                        "ruleId": rule,
                        "level": "error",
                        "message": {"text": message},
                        "locations": [
                            {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}
                        ],
                    }
                    for rule, uri, line, message in results
                ],
            }
        ],
    }
    path = tmp_path / "scan.sarif"
    path.write_text(json.dumps(document))
    return path


def _baseline(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text)
    return path


def test_new_finding_fails_with_a_readable_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sarif = _sarif(tmp_path, [("B105", "services/x.py", 3, "Possible hardcoded password: 'hunter2'")])
    baseline = _baseline(tmp_path, "")
    assert sarif_gate.main(["--sarif", str(sarif), "--baseline", str(baseline), "--name", "bandit"]) == 1
    out = capsys.readouterr().out
    assert "1 NEW finding(s)" in out
    assert "B105 [error] services/x.py:3: Possible hardcoded password: 'hunter2'" in out
    assert "https://example.invalid/b105" in out


def test_accepted_finding_passes_and_stale_entry_is_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sarif = _sarif(tmp_path, [("B404", "tools/ci/run.py", 1, "Consider possible security implications")])
    baseline = _baseline(
        tmp_path,
        '[[accept]]\nrule = "B404"\npath = "tools/*"\nreason = "fixed argv"\n'
        '[[accept]]\nrule = "B101"\npath = "gone.py"\nreason = "was fixed"\n',
    )
    assert sarif_gate.main(["--sarif", str(sarif), "--baseline", str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "1 findings, 1 accepted" in out
    assert "B101 gone.py matches nothing now" in out
    # A package's scan does not call another package's entries stale.
    assert sarif_gate.main(["--sarif", str(sarif), "--baseline", str(baseline), "--scope", "tools/ci"]) == 0
    assert "matches nothing" not in capsys.readouterr().out


def test_match_narrows_an_entry(tmp_path: Path) -> None:
    findings = sarif_gate.read_sarif(_sarif(tmp_path, [("B105", "a.py", 1, "password: 'x'")]))
    narrow = [sarif_gate.Accepted("B105", "a.py", "test fixture", match="'y'")]
    assert sarif_gate.gate(findings, narrow)[0] == findings


def test_entry_without_reason_is_refused(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, '[[accept]]\nrule = "B404"\npath = "x.py"\nreason = ""\n')
    with pytest.raises(ValueError, match="entry 1 lacks reason"):
        sarif_gate.read_baseline(baseline)
