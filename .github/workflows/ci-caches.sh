#!/usr/bin/env bash
# Move Bazel's disk and repository caches between the runner's cache folder (~/mlops-cache,
# saved by actions/cache) and the build root, where Bazel runs as root.
#   ci-caches.sh restore   create the build root, unpack the caches, point Bazel at them
#   ci-caches.sh save      pack the caches for actions/cache/save
# With BAZEL_REMOTE_CACHE set (a repository secret: grpcs://... or https://...), Bazel uses
# that remote cache (--config=remote-cache, optional BAZEL_REMOTE_CACHE_HEADER "Name=value"
# for credentials) instead of the disk cache.
set -euo pipefail

ROOT="${MLOPS_BUILDROOT:-/var/cache/mlops-monorepo/buildroot}"
STORE="$HOME/mlops-cache"
WORKSPACE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

case "${1:-}" in
  restore)
    sudo "$WORKSPACE/tools/buildroot" ensure
    sudo mkdir -p "$ROOT/root/.cache/bazel-disk" "$ROOT/root/.cache/bazel-repo"
    if [[ -f "$STORE/bazel.tar" ]]; then
      sudo tar -C "$ROOT/root/.cache" -xf "$STORE/bazel.tar"
    fi
    # user.bazelrc is git-ignored and read last by .bazelrc; credentials never enter the repo.
    {
      echo 'build --config=ci'
      echo 'common --repository_cache=/root/.cache/bazel-repo'
      if [[ -n "${BAZEL_REMOTE_CACHE:-}" ]]; then
        echo 'build --config=remote-cache'
        echo "build --remote_cache=$BAZEL_REMOTE_CACHE"
        if [[ -n "${BAZEL_REMOTE_CACHE_HEADER:-}" ]]; then
          echo "build --remote_header=$BAZEL_REMOTE_CACHE_HEADER"
        fi
      else
        echo 'build --disk_cache=/root/.cache/bazel-disk'
      fi
    } >"$WORKSPACE/user.bazelrc"
    chmod 600 "$WORKSPACE/user.bazelrc"
    ;;
  save)
    mkdir -p "$STORE"
    sudo tar -C "$ROOT/root/.cache" -cf "$STORE/bazel.tar" bazel-disk bazel-repo
    sudo chown "$(id -u):$(id -g)" "$STORE/bazel.tar"
    ;;
  *)
    echo "usage: $0 restore|save" >&2
    exit 2
    ;;
esac
