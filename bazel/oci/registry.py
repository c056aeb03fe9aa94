"""Starts, stops or reports the embedded local registry: bazel run //bazel/oci:registry -- start|stop|status."""

import argparse
import sys

from bazel.oci import registry_lib


def describe(running: dict) -> None:
    """Says where the registry is and how to stop it (stderr)."""
    print(
        f"registry: running at {running['addr']} (pid {running['pid']}, storage {running['dir']});"
        " stop: bazel run //bazel/oci:registry -- stop",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    """Runs one registry command; prints the registry address (stdout) for start and status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    if args.command == "start":
        running = registry_lib.start()
        print(running["addr"])
        describe(running)
        return 0
    if args.command == "stop":
        stopped = registry_lib.stop()
        print("registry: stopped" if stopped else "registry: was not running", file=sys.stderr)
        return 0
    running = registry_lib.status()
    if not running:
        print("registry: not running", file=sys.stderr)
        return 3
    print(running["addr"])
    describe(running)
    return 0


if __name__ == "__main__":
    sys.exit(main())
