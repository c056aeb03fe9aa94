#!/usr/bin/env bash
# Builds image targets in this workspace's output base and in a second, fresh one, and compares
# their manifest digests: equal digests mean bit-identical images (every layer, the config).
#
# Usage (from the workspace root): bazel/oci/check_reproducible.sh //services/predict:image [...]
#   KEEP_OUTPUT_BASE=1  keep the second output base (default: shut its server down and delete it)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ $# -gt 0 ]] || { echo "usage: $0 //pkg:image [...]" >&2; exit 2; }
second="/root/.cache/bazel-reproducible-check-$$"

digest_paths() { # LABEL... -> bazel-bin relative .digest paths
  for label in "$@"; do
    local pkg="${label#//}" name
    name="${pkg#*:}"
    pkg="${pkg%%:*}"
    echo "bazel-out/k8-fastbuild/bin/$pkg/$name.digest"
  done
}

# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
  if [[ "${KEEP_OUTPUT_BASE:-0}" != 1 ]]; then
    ./tools/bazel --output_base="$second" shutdown >/dev/null 2>&1 || true
    ./tools/buildroot run rm -rf "$second"
  fi
}
trap cleanup EXIT

echo "check_reproducible: building in the usual output base" >&2
./tools/bazel build --nostamp --output_groups=+digest "$@"
first_base="$(./tools/bazel info output_base 2>/dev/null)"
echo "check_reproducible: building again in a fresh output base $second" >&2
# --symlink_prefix=/: leave the bazel-* convenience links pointing at the usual output base.
./tools/bazel --output_base="$second" build --nostamp --output_groups=+digest --symlink_prefix=/ "$@"

status=0
for path in $(digest_paths "$@"); do
  a="$(./tools/buildroot run cat "$first_base/execroot/_main/$path")"
  b="$(./tools/buildroot run cat "$second/execroot/_main/$path")"
  if [[ "$a" == "$b" ]]; then
    echo "same      $a  ${path#bazel-out/k8-fastbuild/bin/}"
  else
    echo "DIFFERENT $a $b  ${path#bazel-out/k8-fastbuild/bin/}"
    status=1
  fi
done
exit "$status"
