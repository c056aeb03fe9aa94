"""Extracts the rule groups of a PrometheusRule manifest into a plain rule file for promtool and prometheus."""

import argparse
import sys
from pathlib import Path

import yaml


class RuleExtractionError(ValueError):
    """The manifest is not a PrometheusRule with rule groups, or an overlay names an unknown alert."""


def rule_groups(manifest: dict) -> list[dict]:
    """The ``spec.groups`` of one PrometheusRule object.

    Raises:
        RuleExtractionError: when the object is not a PrometheusRule or has no groups.
    """
    if manifest.get("kind") != "PrometheusRule":
        raise RuleExtractionError(f"expected kind PrometheusRule, got {manifest.get('kind')!r}")
    groups = (manifest.get("spec") or {}).get("groups")
    if not groups:
        raise RuleExtractionError("the PrometheusRule has no spec.groups")
    return groups


def apply_overlay(groups: list[dict], overlay: dict) -> list[dict]:
    """Return a copy of ``groups`` with the timings an overlay sets (tests shorten them; expressions never change).

    Args:
        groups: rule groups as in the PrometheusRule.
        overlay: ``{"interval": "2s", "for": {"AlertName": "5s", ...}}``; both keys optional.

    Raises:
        RuleExtractionError: on an unknown key or an alert that no group defines.
    """
    unknown_keys = set(overlay) - {"interval", "for"}
    if unknown_keys:
        raise RuleExtractionError(f"unknown overlay keys: {sorted(unknown_keys)}")
    durations = dict(overlay.get("for") or {})
    result = []
    for group in groups:
        copied = {**group, "rules": [dict(rule) for rule in group["rules"]]}
        if "interval" in overlay:
            copied["interval"] = overlay["interval"]
        for rule in copied["rules"]:
            if rule.get("alert") in durations:
                rule["for"] = durations.pop(rule["alert"])
        result.append(copied)
    if durations:
        raise RuleExtractionError(f"the overlay sets `for` of alerts no group defines: {sorted(durations)}")
    return result


def alert_names(groups: list[dict]) -> list[str]:
    """Every alert the groups define, in order."""
    return [rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule]


def main(argv: list[str] | None = None) -> int:
    """Write the rule file; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, required=True, help="a YAML file holding one PrometheusRule")
    parser.add_argument("--out", type=Path, required=True, help="the rule file to write")
    parser.add_argument("--overlay", type=Path, help="YAML with shorter `interval` / per-alert `for` (tests only)")
    args = parser.parse_args(argv)
    try:
        groups = rule_groups(yaml.safe_load(args.manifest.read_text()))
        if args.overlay:
            groups = apply_overlay(groups, yaml.safe_load(args.overlay.read_text()) or {})
    except RuleExtractionError as error:
        print(f"extract_rules: {args.manifest}: {error}", file=sys.stderr)
        return 1
    header = f"# Generated from {args.manifest} by //infrastructure/monitoring:extract_rules; do not edit.\n"
    args.out.write_text(header + yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
