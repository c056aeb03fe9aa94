"""Runs bandit over Python files and writes its findings as SARIF (a build action; never fails on findings).

    python3 -m tools.security.bandit_sarif --output bandit.sarif FILE.py...
The findings are judged by sarif_gate against tools/security/bandit_baseline.toml.
"""

import argparse
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Runs bandit (all tests, all severities) and checks that it wrote the SARIF file."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="the SARIF file to write")
    parser.add_argument("files", nargs="+", help="the Python files to scan")
    args = parser.parse_args(argv)

    # bandit exits 1 when it finds something: that is for the gate to judge, not this action.
    command = [sys.executable, "-m", "bandit", "--quiet", "--format", "sarif", "--output", args.output, *args.files]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1) or not Path(args.output).is_file():
        sys.stderr.write(result.stdout + result.stderr)
        return f"bandit_sarif: bandit failed ({result.returncode}) on {len(args.files)} files"
    return 0


if __name__ == "__main__":
    sys.exit(main())
