"""Posts the CI summary to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Teams workflows).

Configured by the environment: MLOPS_CI_WEBHOOK_URL (unset: nothing is sent). A notification
never fails the build: errors are retried, then reported on stderr.
"""

import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

WEBHOOK_ENV = "MLOPS_CI_WEBHOOK_URL"
# Slack shows up to 40,000 characters of `text` but folds long messages; keep it readable.
MAX_TEXT = 3500
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_HTML_TAG = re.compile(r"</?(details|summary)>")
# Answers worth retrying: the server's trouble or rate limiting; other 4xx mean a bad request.
_SERVER_ERROR = 500
_TOO_MANY_REQUESTS = 429


def to_slack_text(markdown: str) -> str:
    """GitHub markdown rendered as Slack mrkdwn: headings and bold as *bold*, links as <url|text>, no HTML tags."""
    lines = []
    for raw in markdown.splitlines():
        line = _HTML_TAG.sub("", raw)
        heading = _HEADING.match(line)
        line = f"*{heading.group(1).strip()}*" if heading else _BOLD.sub(r"*\1*", line)
        lines.append(_LINK.sub(r"<\2|\1>", line))
    text = "\n".join(lines).strip()
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT].rsplit("\n", 1)[0] + "\n… (truncated; the full summary is in the CI job)"
    return text


def run_context(exit_code: int) -> str:
    """One line naming the outcome and, on GitHub Actions, the repository, ref and a link to the run."""
    outcome = "passed" if exit_code == 0 else "FAILED"
    repo, run_id = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_RUN_ID")
    ref = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or "local run"
    line = f"CI {outcome} on {repo + ' ' if repo else ''}{ref}"
    if repo and run_id:
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        line += f" (<{server}/{repo}/actions/runs/{run_id}|run {run_id}>)"
    return line


def post(url: str, payload: dict, attempts: int = 3, backoff: float = 1.0, timeout: float = 10.0) -> str | None:
    """POST ``payload`` as JSON, retrying connection errors and 5xx/429 answers.

    Args:
        url: the webhook.
        payload: the JSON body.
        attempts: tries in all.
        backoff: seconds before the second try, doubled for each later one.
        timeout: seconds per try.

    Returns:
        None on success, else a one-line description of the last failure.
    """
    # Only a web hook: a file:// or custom-scheme URL from a misconfigured secret is refused.
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return f"not an http(s) URL (scheme {scheme!r}); nothing sent"
    data = json.dumps(payload).encode()
    error = "not tried"
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return None
        except urllib.error.HTTPError as failure:
            error = f"HTTP {failure.code} {failure.reason}"
            if failure.code < _SERVER_ERROR and failure.code != _TOO_MANY_REQUESTS:
                return error  # the webhook refuses this message: retrying will not help
        except (urllib.error.URLError, OSError) as failure:
            error = str(getattr(failure, "reason", failure))
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return f"{error} (after {attempts} attempts)"


def notify_summary(markdown: str, exit_code: int, url: str | None = None, **post_options: float) -> bool:
    """Send the summary to the webhook from the argument or $MLOPS_CI_WEBHOOK_URL; never raises.

    Args:
        markdown: the CI summary.
        exit_code: the pipeline's exit status (the message says passed or FAILED).
        url: the webhook; defaults to the environment variable. Neither set: nothing is sent.
        **post_options: passed to ``post`` (attempts, backoff, timeout).

    Returns:
        True when a message was delivered.
    """
    url = url or os.environ.get(WEBHOOK_ENV)
    if not url:
        return False
    text = f"{run_context(exit_code)}\n{to_slack_text(markdown)}"
    try:
        failure = post(url, {"text": text}, **post_options)
    except Exception as error:  # noqa: BLE001 - a notification must never fail the build
        failure = f"{type(error).__name__}: {error}"
    host = urllib.parse.urlsplit(url).netloc or "the webhook"  # never print the secret path
    if failure:
        print(f"ci: could not notify {host}: {failure}; the build result is unaffected", file=sys.stderr)
        return False
    print(f"ci: summary sent to {host}", file=sys.stderr)
    return True
