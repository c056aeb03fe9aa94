#!/usr/bin/env bash
# Prints the stamping keys Bazel passes to targets built with --stamp.
# STABLE_ keys invalidate stamped outputs when they change; the others do not.
set -euo pipefail
echo "STABLE_GIT_COMMIT $(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
  echo "STABLE_GIT_TREE_STATE dirty"
else
  echo "STABLE_GIT_TREE_STATE clean"
fi
echo "BUILD_SOURCE_URL ${SOURCE_URL:-$(git config --get remote.origin.url 2>/dev/null || echo local)}"
