"""The offline settings a nested Bazel (run by a test on a throwaway repo) needs."""

import os
from pathlib import Path

# Set by tools/bazel when Bazel runs in the build root; passed to tests by
# bazel/buildroot/buildroot.bazelrc (--test_env).
_REGISTRY = "MLOPS_OFFLINE_REGISTRY"
_COVERAGE_STUB = "MLOPS_COVERAGE_TOOLS_STUB"


# A nested Bazel server in a test lives for seconds, where the JVM's optimising compiler (C2)
# costs more CPU than it gives back. Compiling with C1 only, measured on an idle 2-core
# machine: ci_test 22.2 -> 14.1 CPU-s, scenarios_test 20.3 -> 13.3, push_test 17 -> 10.5.
# Benchmarks and long runs keep the default, which is what users run.
SHORT_LIVED_SERVER = "startup --host_jvm_args=-XX:TieredStopAtLevel=1"


def offline_bazelrc(short_lived_server: bool = False) -> str:
    """The .bazelrc lines for a throwaway repo.

    Bzlmod only, plus the build root's offline registry and coverage stub when the outer
    Bazel runs in the build root. ``short_lived_server`` adds SHORT_LIVED_SERVER, for tests.

    Raises:
        FileNotFoundError: when the environment names a registry that does not exist.
    """
    lines = ["common --noenable_workspace"]
    if short_lived_server:
        lines.append(SHORT_LIVED_SERVER)
    registry = os.environ.get(_REGISTRY)
    if registry:
        if not Path(registry, "bazel_registry.json").is_file():
            raise FileNotFoundError(f"{_REGISTRY}={registry} has no bazel_registry.json")
        stub = os.environ[_COVERAGE_STUB]
        lines += [
            f"common --registry=file://{registry}",
            f"common --override_repository=bazel_tools~remote_coverage_tools_extension~remote_coverage_tools={stub}",
            "common --nosandbox_debug",
        ]
    return "\n".join(lines) + "\n"
