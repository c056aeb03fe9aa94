"""Fails on scanner findings that a reviewed baseline does not accept; reads the scanner's SARIF.

A baseline is a TOML file of accepted findings, each with the reason it was accepted:

    [[accept]]
    rule = "B404"                      # the SARIF ruleId (bandit test id, checkov check id)
    path = "tools/ci/*.py"             # fnmatch pattern of the file, relative to the repo
    match = "subprocess"               # optional: a substring of the finding's message/snippet
    reason = "CI drivers run fixed argv lists, never a shell"

Every finding of the SARIF must match an entry; the rest are printed (rule, file:line, message,
help link) and the gate fails. Entries that match nothing are reported as stale, so the
baseline shrinks when code is fixed.

    python3 -m tools.security.sarif_gate --sarif bandit.sarif --baseline tools/security/bandit_baseline.toml
"""

import argparse
import fnmatch
import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    """One SARIF result, flattened."""

    rule: str
    path: str
    line: int
    message: str
    snippet: str
    help_uri: str
    level: str

    def describe(self) -> str:
        """A readable one-finding report."""
        text = f"{self.rule} [{self.level}] {self.path}:{self.line}: {self.message}"
        if self.snippet:
            text += f"\n      | {self.snippet.strip().splitlines()[0][:160]}"
        if self.help_uri:
            text += f"\n      see {self.help_uri}"
        return text


@dataclass(frozen=True)
class Accepted:
    """One baseline entry."""

    rule: str
    path: str
    reason: str
    match: str = ""

    def covers(self, finding: Finding) -> bool:
        """True when this entry accepts the finding."""
        return (
            fnmatch.fnmatchcase(finding.rule, self.rule)
            and fnmatch.fnmatchcase(finding.path, self.path)
            and (not self.match or self.match in finding.message or self.match in finding.snippet)
        )


def _relative(uri: str, roots: list[str]) -> str:
    path = uri.removeprefix("file://")
    for root in roots:
        if root and path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1 :]
    return path.removeprefix("./").lstrip("/")


def read_sarif(path: str | Path, strip_roots: list[str] | None = None) -> list[Finding]:
    """Every result of every run in a SARIF 2.1 file; file paths made relative to the repo."""
    document = json.loads(Path(path).read_text())
    findings = []
    for run in document.get("runs", []):
        rules = {rule.get("id"): rule for rule in run.get("tool", {}).get("driver", {}).get("rules", [])}
        for result in run.get("results", []):
            rule = result.get("ruleId", "?")
            location = (result.get("locations") or [{}])[0].get("physicalLocation", {})
            region = location.get("region", {})
            findings.append(
                Finding(
                    rule=rule,
                    path=_relative(location.get("artifactLocation", {}).get("uri", "?"), strip_roots or []),
                    line=int(region.get("startLine", 0)),
                    message=result.get("message", {}).get("text", ""),
                    snippet=region.get("snippet", {}).get("text", ""),
                    help_uri=rules.get(rule, {}).get("helpUri", ""),
                    level=result.get("level", "warning"),
                )
            )
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule))


def read_baseline(path: str | Path) -> list[Accepted]:
    """The accepted findings; each needs a rule, a path and a non-empty reason.

    Raises:
        ValueError: naming the entry that lacks one of them.
    """
    entries = tomllib.loads(Path(path).read_text()).get("accept", [])
    accepted = []
    for number, entry in enumerate(entries, 1):
        missing = [key for key in ("rule", "path", "reason") if not str(entry.get(key, "")).strip()]
        if missing:
            raise ValueError(
                f"{path}: entry {number} lacks {', '.join(missing)} (every accepted finding needs a reason)"
            )
        accepted.append(Accepted(entry["rule"], entry["path"], entry["reason"], entry.get("match", "")))
    return accepted


def gate(findings: list[Finding], baseline: list[Accepted]) -> tuple[list[Finding], list[Accepted]]:
    """Splits the findings: returns (new findings, stale baseline entries)."""
    new = [f for f in findings if not any(entry.covers(f) for entry in baseline)]
    stale = [entry for entry in baseline if not any(entry.covers(f) for f in findings)]
    return new, stale


def main(argv: list[str] | None = None) -> int:
    """Prints the report; exits 1 on new findings."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sarif", required=True, action="append", help="a scanner's SARIF output (repeatable)")
    parser.add_argument("--baseline", required=True, help="the reviewed TOML baseline")
    parser.add_argument("--strip-root", action="append", default=[], help="a path prefix to drop from file URIs")
    parser.add_argument("--name", default="scan", help="the scanner's name, for the report")
    parser.add_argument(
        "--scope",
        default="",
        help="the folder this scan covers (a package); stale entries are reported only for paths inside it",
    )
    args = parser.parse_args(argv)

    findings = [f for sarif in args.sarif for f in read_sarif(sarif, args.strip_root)]
    baseline = read_baseline(args.baseline)
    new, stale = gate(findings, baseline)
    # One baseline serves every package's scan: an entry is stale only where this scan looked.
    scope = args.scope.rstrip("/") + "/" if args.scope else ""
    stale = [entry for entry in stale if entry.path.startswith(scope) and not entry.path.startswith("*")]
    print(f"{args.name}: {len(findings)} findings, {len(findings) - len(new)} accepted by {args.baseline}")
    for entry in stale:
        print(f"{args.name}: note: baseline entry {entry.rule} {entry.path} matches nothing now; remove it")
    if new:
        print(f"{args.name}: {len(new)} NEW finding(s) not in the baseline:")
        for finding in new:
            print("  - " + finding.describe().replace("\n", "\n    "))
        print(
            f"{args.name}: fix them, or accept each in {args.baseline} with a reason "
            "([[accept]] rule, path, match, reason)"
        )
        return 1
    print(f"{args.name}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
