#!/usr/bin/env bash
# Keeps one CI comment per pull request: creates it, or updates the comment carrying the marker.
#   GH_TOKEN=... GITHUB_REPOSITORY=owner/repo PR=123 .github/workflows/pr-comment.sh ci-summary.md
# Uses the GitHub CLI (`gh`, preinstalled on GitHub's runners); needs `pull-requests: write`.
set -euo pipefail

summary="${1:?usage: pr-comment.sh SUMMARY.md}"
: "${PR:?PR (the pull request number) is not set}"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY (owner/name) is not set}"
MARKER='<!-- mlops-ci-summary -->'
# GitHub refuses comments above 65,536 characters.
LIMIT=60000

body="$(mktemp)"
trap 'rm -f "$body"' EXIT
{
  echo "$MARKER"
  if [[ -s "$summary" ]]; then
    head -c "$LIMIT" "$summary"
    if (($(wc -c <"$summary") > LIMIT)); then
      printf '\n\n… (truncated; the full summary is in the job summary)\n'
    fi
  else
    echo "CI wrote no summary: see the job's log."
  fi
  if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
    printf '\n<sub>Updated by run [%s](%s/%s/actions/runs/%s) for %s.</sub>\n' "$GITHUB_RUN_ID" \
      "${GITHUB_SERVER_URL:-https://github.com}" "$GITHUB_REPOSITORY" "$GITHUB_RUN_ID" "${GITHUB_SHA:-this commit}"
  fi
} >"$body"

existing="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR/comments" \
  --jq ".[] | select(.body | startswith(\"$MARKER\")) | .id" | head -n 1)"
if [[ -n "$existing" ]]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -F "body=@$body" >/dev/null
  echo "pr-comment: updated comment $existing on #$PR"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR/comments" -F "body=@$body" >/dev/null
  echo "pr-comment: created the CI comment on #$PR"
fi
