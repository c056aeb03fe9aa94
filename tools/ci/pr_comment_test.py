"""pr-comment.sh keeps one CI comment per pull request: created once, then updated in place.

GitHub is not reachable here, so `gh` is a stand-in on PATH that keeps the comments in a JSON
file and evaluates the script's --jq filter with the real jq (the build root's Debian package).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(".github/workflows/pr-comment.sh").resolve()
FAKE_GH = """#!{python}
import json, subprocess, sys
from pathlib import Path
store = Path({store!r})
comments = json.loads(store.read_text())
args = sys.argv[1:]
assert args[0] == "api", args
method = args[args.index("--method") + 1] if "--method" in args else "GET"
path = next(a for a in args[1:] if a.startswith("repos/"))
with open(str(store) + ".log", "a") as log:
    log.write(f"{{method}} {{path}}\\n")
if method == "GET":
    jq = args[args.index("--jq") + 1]
    found = subprocess.run(["jq", "-r", jq], input=json.dumps(comments), capture_output=True, text=True, check=True)
    print(found.stdout, end="")
else:
    body = Path(args[args.index("-F") + 1].removeprefix("body=@")).read_text()
    if method == "POST":
        comments.append({{"id": 100 + len(comments), "body": body}})
    else:
        comment_id = int(path.rsplit("/", 1)[1])
        next(c for c in comments if c["id"] == comment_id)["body"] = body
    store.write_text(json.dumps(comments))
    print("{{}}")
"""


@pytest.fixture
def github(tmp_path):
    store = tmp_path / "comments.json"
    store.write_text(json.dumps([{"id": 7, "body": "LGTM"}]))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH.format(python=sys.executable, store=str(store)))
    (bin_dir / "gh").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}:/usr/bin",
        "PR": "12",
        "GITHUB_REPOSITORY": "acme/mlops",
        "GITHUB_RUN_ID": "99",
    }
    return store, env


def _run(summary: Path, env: dict) -> str:
    result = subprocess.run(["bash", str(SCRIPT), str(summary)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_creates_then_updates_one_comment(github, tmp_path):
    store, env = github
    summary = tmp_path / "ci-summary.md"
    summary.write_text("## CI: first run\n")
    assert "created" in _run(summary, env)
    summary.write_text("## CI: second run\n")
    assert "updated comment 101" in _run(summary, env)
    comments = json.loads(store.read_text())
    assert [c["id"] for c in comments] == [7, 101]  # the reviewer's comment untouched, one CI comment
    assert comments[1]["body"].startswith("<!-- mlops-ci-summary -->\n## CI: second run")
    assert "actions/runs/99" in comments[1]["body"]
    assert Path(str(store) + ".log").read_text().splitlines() == [
        "GET repos/acme/mlops/issues/12/comments",
        "POST repos/acme/mlops/issues/12/comments",
        "GET repos/acme/mlops/issues/12/comments",
        "PATCH repos/acme/mlops/issues/comments/101",
    ]


def test_missing_summary_still_comments(github, tmp_path):
    store, env = github
    _run(tmp_path / "absent.md", env)
    assert "CI wrote no summary" in json.loads(store.read_text())[1]["body"]


def test_huge_summary_is_truncated(github, tmp_path):
    store, env = github
    summary = tmp_path / "ci-summary.md"
    summary.write_text("x" * 100_000)
    _run(summary, env)
    body = json.loads(store.read_text())[1]["body"]
    assert len(body) < 65_536
    assert "truncated" in body
