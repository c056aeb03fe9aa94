# shellcheck shell=bash
# tools/output_bases.sh: empty Bazel output bases for checks that build from scratch (sourced).
#
# tools/remote-exec-check builds from an output base with no action cache and no outputs. Its
# external repositories are not actions (no cache holds them) and cost minutes to fetch: the
# pip hubs install and compile hundreds of wheels. So it starts from an output base whose
# external/ is hard-linked from the default one (Bazel re-checks each repository against its
# marker file and re-fetches any that is stale). tools/remote-cache-check does not link (it
# must see what two independent fetches give); both discard their output bases with discard_dir.
# Both functions run from the workspace and use ./tools/buildroot, where the output bases live.

# discard_dir DIR: move DIR aside and delete it in the background, with leftovers of earlier
# runs (an output base holds hundreds of thousands of runfiles links: deleting takes minutes).
discard_dir() {
  ./tools/buildroot run sh -c 'if [ -e "$1" ]; then mv "$1" "$1.old.$$"; fi
    (setsid rm -rf "$1".old.* </dev/null >/dev/null 2>&1 &)' sh "$1" || true
}

# output_base_with_external NAME: prints the path of a new, empty output base NAME beside the
# default one, with the default one's external repositories hard-linked in. Beside it because
# hard links cannot cross the mount the output root is on.
output_base_with_external() {
  local default_base new_base
  default_base="$(./tools/bazel info output_base 2>/dev/null)" || return 1
  new_base="$(dirname "$default_base")/$1"
  discard_dir "$new_base"
  ./tools/buildroot run sh -euc 'mkdir -p "$1" && if [ -d "$2/external" ]; then cp -al "$2/external" "$1/external"; fi' \
    sh "$new_base" "$default_base" || return 1
  printf '%s\n' "$new_base"
}
