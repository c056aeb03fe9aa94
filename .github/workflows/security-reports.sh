#!/usr/bin/env bash
# Collect the security reports of a CI run into security-reports/ (uploaded as an artifact):
#   sbom/<service>.cdx.json  the SBOMs of the images the change affects (for the Trivy job)
#   sarif/*.sarif            bandit's and checkov's SARIF, build outputs of their tests
# and write `images=<JSON list of services>` to $GITHUB_OUTPUT for the Trivy job's matrix.
#   security-reports.sh BASE
set -euo pipefail

BASE="${1:?usage: security-reports.sh BASE}"
WORKSPACE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
OUT="$WORKSPACE/security-reports"
mkdir -p "$OUT/sbom" "$OUT/sarif"
cd "$WORKSPACE"

mapfile -t images < <(sudo ./tools/bazel run //tools/affected -- --base "$BASE" --kind image 2>/dev/null |
  grep -E '^//services/[^:]+:image$' || true)
services=()
if [[ ${#images[@]} -gt 0 ]]; then
  sudo ./tools/bazel run //tools/security:scan -- --export security-reports/sbom "${images[@]}"
  for label in "${images[@]}"; do
    path="${label%%:*}"
    services+=("${path##*/}")
  done
fi
echo "security-reports: SBOMs of ${#services[@]} affected image(s): ${services[*]:-none}"

# The SARIF files the scanner tests left in bazel-bin (which resolves inside the build root):
# bazel-bin/<package>/<name>_sarif.sarif, copied as <package with _>_<name>_sarif.sarif.
# shellcheck disable=SC2016 # expanded by the inner shell, inside the build root
sudo ./tools/buildroot run sh -c 'bin="$(readlink -f bazel-bin)"
  find "$bin" -maxdepth 5 -name "*_sarif.sarif" -not -path "*.runfiles/*" | while read -r file; do
    cp "$file" "security-reports/sarif/$(printf %s "${file#"$bin"/}" | tr / _)"
  done' || true
sudo chown -R "$(id -u):$(id -g)" "$OUT"
echo "security-reports: $(find "$OUT/sarif" -name '*.sarif' | wc -l) SARIF file(s) from bandit and checkov"

json="[]"
if [[ ${#services[@]} -gt 0 ]]; then
  json="[$(printf '"%s",' "${services[@]}" | sed 's/,$//')]"
fi
echo "images=$json" >>"${GITHUB_OUTPUT:-/dev/null}"
