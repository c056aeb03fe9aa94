#!/usr/bin/env bash
# Proves that host paths work through tools/bazel although Bazel runs in the build root:
# a `bazel run` target reads and writes files given relative to the caller's directory,
# under /tmp, under $HOME and as absolute paths, and the bazel-bin, bazel-out and
# bazel-testlogs links resolve on the host, and a workspace deleted and made again at the
# same path is seen anew. Drives ./tools/bazel itself, so it runs
# outside Bazel (.ci/run runs it after the tests): `bash tools/host_paths_test.sh`.
set -euo pipefail
WORKSPACE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$WORKSPACE"

failures=0
fail() {
  echo "host_paths_test: FAIL: $*" >&2
  failures=$((failures + 1))
}

in_tmp="$(mktemp -d /tmp/host-paths.XXXXXX)"
in_home="$(mktemp -d "$HOME/host-paths.XXXXXX")"
relative="host-paths-test.$$" # in the workspace, the caller's directory
trap 'rm -rf "$in_tmp" "$in_home" "$relative"' EXIT
mkdir "$relative"

# Three rows inside the data contract (data/contract.py).
write_batch() {
  cat >"$1" <<'CSV'
MedInc,HouseAge,AveRooms,AveBedrms,Population,AveOccup,Latitude,Longitude,MedHouseVal
8.3252,41.0,6.98,1.02,322.0,2.55,37.88,-122.23,4.526
7.2574,52.0,8.28,1.07,496.0,2.18,37.85,-122.24,3.585
5.6431,52.0,5.82,1.07,558.0,2.55,37.85,-122.25,3.521
CSV
}

# validate FILE REPORT: both as the user typed them; the report must appear on the host.
check_run() {
  local file="$1" report="$2" where="$3"
  write_batch "$file"
  rm -f "$report"
  if ! ./tools/bazel run --noshow_progress //data:validate -- "$file" --report "$report" >/dev/null 2>"$in_tmp/stderr"; then
    fail "bazel run //data:validate -- $file ($where) failed:"
    tail -5 "$in_tmp/stderr" >&2
  elif ! grep -q '"rows_valid": 3' "$report" 2>/dev/null; then
    fail "$where: the report $report is missing on the host or does not count 3 valid rows"
  else
    echo "host_paths_test: ok: bazel run //data:validate -- $file ($where), report written to $report"
  fi
}

check_run "$in_tmp/batch.csv" "$in_tmp/report.json" "/tmp, absolute"
check_run "$in_home/batch.csv" "$in_home/report.json" "\$HOME, absolute"
check_run "$relative/batch.csv" "$relative/report.json" "relative to the caller's directory"
# A folder of its own: validate refuses to overwrite the quarantine file the run above left.
mkdir "$relative/absolute"
check_run "$WORKSPACE/$relative/absolute/batch.csv" "$WORKSPACE/$relative/absolute/report.json" "the workspace, absolute"

for link in bazel-bin bazel-out bazel-testlogs; do
  if [[ -d "$link/" ]]; then
    echo "host_paths_test: ok: $link -> $(readlink "$link") resolves on the host"
  else
    fail "$link does not resolve on the host (-> $(readlink "$link" || echo 'no link'))"
  fi
done
if [[ -x bazel-bin/data/validate ]]; then
  echo "host_paths_test: ok: bazel-bin/data/validate exists on the host"
else
  fail "bazel-bin/data/validate is not visible on the host"
fi

# A workspace deleted and made again at the same path, as CI's clean clone is on every run:
# the root must show the new directory, not the deleted one its old mount still holds.
root="${MLOPS_BUILDROOT:-/var/cache/mlops-monorepo/buildroot}"
remade="$(mktemp -d /var/tmp/host-paths-remade.XXXXXX)" # outside /tmp and /home: mounted on its own
copy_launcher() { cp --parents tools/buildroot .bazelversion bazel/buildroot/packages.txt bazel/buildroot/buildroot.bazelrc "$remade/"; }
copy_launcher
(cd "$remade" && ./tools/buildroot run /bin/true) || fail "tools/buildroot run in $remade failed"
rm -rf "$remade" && mkdir "$remade" && copy_launcher
if seen="$(cd "$remade" && ./tools/buildroot run /bin/pwd 2>&1)" && [[ "$seen" == "$remade" ]]; then
  echo "host_paths_test: ok: a workspace made again at the same path is seen anew inside the root"
else
  fail "a workspace made again at $remade is not seen inside the root: $seen"
fi
rm -rf "$remade"
umount -l "$root$remade" 2>/dev/null && rmdir "$root$remade" 2>/dev/null || true

if ((failures > 0)); then
  echo "host_paths_test: $failures check(s) failed" >&2
  exit 1
fi
echo "host_paths_test: all host-path checks passed"
