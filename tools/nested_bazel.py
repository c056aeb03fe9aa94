"""The offline settings a nested Bazel (run by a test on a throwaway repo) needs."""

import os
from pathlib import Path

# Set by tools/bazel when Bazel runs in the build root; passed to tests by
# bazel/buildroot/buildroot.bazelrc (--test_env).
_REGISTRY = "MLOPS_OFFLINE_REGISTRY"
_COVERAGE_STUB = "MLOPS_COVERAGE_TOOLS_STUB"


def offline_bazelrc() -> str:
    """The .bazelrc lines for a throwaway repo.

    Bzlmod only, plus the build root's offline registry and coverage stub when the outer
    Bazel runs in the build root.

    Raises:
        FileNotFoundError: when the environment names a registry that does not exist.
    """
    lines = ["common --noenable_workspace"]
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
