#!/usr/bin/env bash
# Checks Starlark files with buildifier: buildifier_check.sh BUILDIFIER FILE...
# Exit 0 when every file is formatted and lint-clean; otherwise print what to change.
set -uo pipefail
buildifier="$1"
shift
if "$buildifier" -mode=check -lint=warn "$@"; then
  echo "buildifier: $# file(s) formatted and lint-clean"
  exit 0
fi
echo "buildifier: the files above need changes; fix them with: bazel run //tools:format" >&2
exit 1
