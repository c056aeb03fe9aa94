"""Validates the Terraform with the real terraform binary: fmt -check, init -backend=false, validate.

    bazel run //infrastructure:terraform_validate
    python3 infrastructure/terraform_validate.py [--terraform PATH] [--plugin-mirror DIR]

terraform: --terraform, else $TERRAFORM, else PATH, else /usr/local/bin/terraform.
Providers: with --plugin-mirror or $TF_PLUGIN_MIRROR (a directory laid out as
registry.terraform.io/hashicorp/aws/<version>/<os_arch>/), a CLI configuration whose
provider_installation is that filesystem_mirror only, so nothing is downloaded; else Terraform's
usual CLI configuration ($TF_CLI_CONFIG_FILE, ~/.terraformrc), else its defaults (the registry).
init and validate run on a scratch copy (init writes .terraform/ and a lock file), never on the
source tree. Exit 0 when all three pass; 1 when one fails; 2 when terraform is missing.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find_terraform(explicit: str | None) -> str | None:
    """The terraform binary to use, or None."""
    for candidate in (explicit, os.environ.get("TERRAFORM"), shutil.which("terraform"), "/usr/local/bin/terraform"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def source_dir() -> Path:
    """infrastructure/terraform of the workspace (under bazel run) or next to this file."""
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    return (Path(workspace) / "infrastructure" / "terraform") if workspace else HERE / "terraform"


def cli_config(mirror: str, directory: Path) -> Path:
    """Writes a CLI configuration that installs every provider from the filesystem mirror only."""
    path = directory / "terraform.rc"
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{Path(mirror).resolve()}"\n    include = ["*/*/*"]\n  }}\n'
        "}\n"
    )
    return path


def step(name: str, command: list[str], cwd: Path, env: dict[str, str]) -> bool:
    """Runs one terraform command; prints its outcome, its time, and its output when it fails."""
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    if result.returncode == 0:
        print(f"terraform_validate: {name}: ok ({took:.1f} s)")
        return True
    print(f"terraform_validate: {name}: FAILED ({took:.1f} s): {' '.join(command[1:])}")
    print((result.stdout + result.stderr).strip())
    return False


def main(argv: list[str] | None = None) -> int:
    """Runs fmt -check, init -backend=false and validate; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terraform", help="the terraform binary (default: $TERRAFORM, PATH)")
    parser.add_argument("--plugin-mirror", default=os.environ.get("TF_PLUGIN_MIRROR"), help="provider mirror dir")
    parser.add_argument(
        "--dir", type=Path, default=None, help="the root configuration (default: infrastructure/terraform)"
    )
    args = parser.parse_args(argv)

    terraform = find_terraform(args.terraform)
    if terraform is None:
        print(
            "terraform_validate: SKIPPED: no terraform binary (looked at --terraform, $TERRAFORM, PATH, "
            "/usr/local/bin/terraform); install Terraform >= 1.6 to validate infrastructure/terraform"
        )
        return 2
    config = (args.dir or source_dir()).resolve()
    version = subprocess.run([terraform, "version"], capture_output=True, text=True, check=False).stdout
    print(f"terraform_validate: {terraform} ({version.splitlines()[0] if version else '?'}) on {config}")

    with tempfile.TemporaryDirectory(prefix="terraform-validate-") as scratch:
        work = Path(scratch, "terraform")
        shutil.copytree(config, work, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
        env = dict(os.environ, TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
        env["TF_DATA_DIR"] = str(Path(scratch, "data"))
        if args.plugin_mirror:
            env["TF_CLI_CONFIG_FILE"] = str(cli_config(args.plugin_mirror, Path(scratch)))
        providers = env.get("TF_CLI_CONFIG_FILE") or "Terraform's default provider installation"
        print(f"terraform_validate: providers from {providers}")
        ok = step("fmt -check", [terraform, "fmt", "-check", "-recursive", "-diff", "-no-color"], config, env)
        ok = step("init -backend=false", [terraform, "init", "-backend=false", "-no-color"], work, env) and ok
        ok = ok and step("validate", [terraform, "validate", "-no-color"], work, env)
    print(f"terraform_validate: {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
