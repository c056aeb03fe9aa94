#!/usr/bin/env bash
# Lints the repo's shell scripts (given as arguments) with shellcheck from the build root.
set -euo pipefail
if ! command -v shellcheck >/dev/null; then
  echo "shellcheck_test: shellcheck is not installed (it comes with the build root: bazel/buildroot/packages.txt)" >&2
  exit 1
fi
shellcheck --version | sed -n 2p
shellcheck -x "$@"
echo "shellcheck: $# scripts clean"
