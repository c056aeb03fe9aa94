"""Checks the affected tool against Bazel's own cache: what Bazel re-runs for each commit vs what the tool selected.

    bazel run //tools/affected:verify                               # the last 30 commits of this repository
    bazel run //tools/affected:verify -- --commits 5 --targets //tools/...
    bazel run //tools/affected:verify -- --exclude //services:schemathesis_test   # all but a slow test
    bazel run //tools/affected:verify -- --synthetic 40             # the benchmark's change kinds on a small repo

For each commit C (first-parent history, oldest first) the tool builds and tests TARGETS at
C's parent in its own checkout and output base (the warm state), then moves the checkout to
C and runs ``bazel test TARGETS --keep_going`` again. Bazel's local action cache then holds
the parent's results, so:

* a test Bazel re-runs is a test whose inputs changed: a test result not "cached locally" in
  the build event stream (a disk-cache hit still means its action key changed);
* a target whose actions re-ran (spawns in the execution log) is a target whose outputs may
  change.

Both must be in what ``compute(base=parent, head=C)`` selected: anything else is MISSED
(must be 0). EXTRA counts the tests the tool selected that Bazel answered from its cache.
Expensive (a full build per start, one incremental test run per commit): bounded by
--commits and --timeout, and not part of ``bazel test //...``.
"""

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.affected import synthetic
from tools.affected.api import Config, compute, configure_logging, kinds
from tools.affected.bazel import shutdown_cached_servers
from tools.affected.checkout import CachedCheckout, cache_dir_for
from tools.bazel_client import clean_env, default_startup
from tools.nested_bazel import offline_bazelrc
from tools.user_paths import working_directory


@dataclass
class Truth:
    """What Bazel re-ran for one change.

    Attributes:
        rerun_tests: tests whose result was not served from the local action cache.
        cached_tests: tests whose result was.
        acted: main-repository targets with at least one action executed (or fetched from a remote/disk cache).
        exit_code: ``bazel test``'s exit code (tests may fail; that does not matter here).
    """

    rerun_tests: set[str] = field(default_factory=set)
    cached_tests: set[str] = field(default_factory=set)
    acted: set[str] = field(default_factory=set)
    exit_code: int = 0


@dataclass
class Row:
    """One line of the table."""

    name: str
    changed_files: int
    selected: int
    selected_tests: int
    rerun_tests: int
    acted: int
    missed: list[str]
    extra_tests: list[str]
    exact: bool
    seconds: float
    failed_before: list[str] = field(default_factory=list)


def parse_build_events(text: str) -> tuple[set[str], set[str], set[str]]:
    """(re-run tests, locally cached tests, tests whose last attempt failed) from ``--build_event_json_file`` output."""
    rerun, cached = set(), set()
    last_status: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        test = event.get("id", {}).get("testResult")
        if not test:
            continue
        label = test["label"]
        result = event.get("testResult", {})
        last_status[label] = result.get("status", "")
        if result.get("cachedLocally"):
            cached.add(label)
        else:
            rerun.add(label)
    failed = {label for label, status in last_status.items() if status != "PASSED"}
    return rerun - cached, cached, failed


def parse_execution_log(text: str) -> set[str]:
    """Main-repository target labels of the spawns in ``--execution_log_json_file`` output (concatenated JSON)."""
    decoder = json.JSONDecoder()
    labels: set[str] = set()
    i, end = 0, len(text)
    while i < end:
        while i < end and text[i].isspace():
            i += 1
        if i >= end:
            break
        obj, i = decoder.raw_decode(text, i)
        label = obj.get("targetLabel", "")
        if label.startswith("//"):
            labels.add(label)
        elif label.startswith("@@//") or label.startswith("@//"):
            labels.add(label[label.index("//") :])
    return labels


class Workbench:
    """A checkout of the repository with its own output base, moved from commit to commit."""

    def __init__(self, repo: Path, cfg: Config, targets: list[str], timeout: int):
        """Prepare the checkout (the first ``move_to`` writes its files); Bazel flags come from ``cfg.flags``."""
        self.repo = repo
        self.bazel = cfg.bazel
        self.flags = cfg.flags
        self.targets = targets
        self.timeout = timeout
        cache_root = cfg.cache_root
        self.cache = cache_dir_for(repo, cache_root)
        self.checkout = CachedCheckout(repo, self.cache, "verify")
        self.logs = Path(tempfile.mkdtemp(prefix="affected-verify-"))
        # Tests that failed in the last run: Bazel caches no failure, so it runs them again at the
        # next commit whatever changed (not a miss of the tool).
        self.failed: set[str] = set()

    def startup(self) -> list[str]:
        """The startup options: its own output base, a server that goes away soon after the run."""
        return [
            *default_startup(self.checkout.dir),
            f"--output_base={self.checkout.output_base}",
            "--max_idle_secs=300",
        ]

    def move_to(self, commit: str) -> None:
        """Make the checkout hold ``commit``."""
        self.checkout.checkout(commit)

    def test(self) -> Truth:
        """``bazel test TARGETS --keep_going`` in the checkout, read back as a Truth."""
        events, execlog = self.logs / "events.json", self.logs / "exec.json"
        cmd = [
            self.bazel,
            *self.startup(),
            "test",
            *self.flags,
            "--keep_going",
            "--test_summary=terse",
            f"--build_event_json_file={events}",
            f"--execution_log_json_file={execlog}",
            "--",
            *self.targets,
        ]
        started = time.monotonic()
        result = subprocess.run(
            cmd, cwd=self.checkout.dir, env=clean_env(), stdout=sys.stderr, check=False, timeout=self.timeout
        )
        print(f"verify:   bazel test: exit {result.returncode} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        rerun, cached, failed = parse_build_events(events.read_text() if events.exists() else "")
        acted = parse_execution_log(execlog.read_text() if execlog.exists() else "")
        self.failed = failed
        return Truth(rerun, cached, acted, result.returncode)

    def close(self) -> None:
        """Stop the checkout's server and release it."""
        subprocess.run(
            [self.bazel, *self.startup(), "shutdown"], cwd=self.checkout.dir, capture_output=True, check=False
        )
        self.checkout.close()
        shutil.rmtree(self.logs, ignore_errors=True)


def _matches(label: str, pattern: str) -> bool:
    """Whether ``label`` is matched by one target pattern (``//a/...``, ``//a:all``, ``//...``, a label)."""
    if pattern == "//...":
        return True
    if pattern.endswith("/..."):
        prefix = pattern[: -len("/...")]
        package = label.split(":", 1)[0]
        return package == prefix or package.startswith(prefix + "/")
    return label == pattern or (label.split(":", 1)[0] == pattern.split(":", 1)[0] and pattern.endswith(":all"))


def _within(label: str, targets: list[str]) -> bool:
    """Whether ``label`` is under the target patterns: matched by one, and by none of the ``-`` exclusions."""
    included = any(_matches(label, p) for p in targets if not p.startswith("-"))
    return included and not any(_matches(label, p[1:]) for p in targets if p.startswith("-"))


def verify_commit(bench: Workbench, cfg: Config, name: str, parent: str, commit: str) -> Row:
    """Move the warm checkout from ``parent`` to ``commit`` and compare Bazel's re-runs with the tool's answer."""
    started = time.monotonic()
    result = compute(Config(**{**cfg.__dict__, "base": parent, "head": commit}))
    failed_before = bench.failed
    bench.move_to(commit)
    truth = bench.test()
    non_manual = {t.label for t in result.targets if not t.manual}
    selected_tests = {label for label in result.labels(kinds.TEST) if _within(label, bench.targets)}
    if result.all_targets_unknown:
        non_manual = truth.rerun_tests | truth.acted
    unselected = (truth.rerun_tests | truth.acted) - non_manual
    missed = sorted(unselected - failed_before)
    extra = sorted(selected_tests & truth.cached_tests)
    return Row(
        name,
        len(result.changes),
        len([label for label in non_manual if _within(label, bench.targets)]),
        len(selected_tests),
        len(truth.rerun_tests),
        len(truth.acted),
        missed,
        extra,
        result.exact,
        time.monotonic() - started,
        sorted(unselected & failed_before),
    )


def print_table(rows: list[Row], title: str) -> None:
    """The per-commit table and the totals."""
    print(f"\n{title}")
    columns = ("files", "sel", "sel.t", "rerun", "acted", "MISSED", "extra")
    print(f"{'commit':42} " + " ".join(f"{c:>5}" for c in columns) + "  exact")
    for r in rows:
        print(
            f"{r.name[:42]:42} {r.changed_files:5d} {r.selected:5d} {r.selected_tests:5d} {r.rerun_tests:5d} "
            f"{r.acted:5d} {len(r.missed):6d} {len(r.extra_tests):5d}  {r.exact}"
        )
        for label in r.missed:
            print(f"    missed: {label}")
        for label in r.failed_before:
            print(f"    not selected, re-run because it failed at the parent: {label}")
    selected = sum(r.selected_tests for r in rows)
    extra = sum(len(r.extra_tests) for r in rows)
    share = f"{100 * extra / selected:.1f} %" if selected else "n/a"
    print(f"total: {len(rows)} change(s), missed {sum(len(r.missed) for r in rows)}, "
          f"extra tests {extra} of {selected} selected ({share})")  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@dataclass(frozen=True)
class Plan:
    """What to verify.

    Attributes:
        commits: how many of the latest first-parent commits.
        targets: what ``bazel test`` builds and tests.
        timeout: seconds per ``bazel test``.
        flags: options for ``bazel test``.
    """

    commits: int
    targets: list[str]
    timeout: int = 3600
    flags: list[str] = field(default_factory=list)


def verify_history(repo: Path, cfg: Config, plan: Plan) -> list[Row]:
    """The last ``plan.commits`` first-parent commits of ``repo``'s HEAD, oldest first."""
    commits, targets, timeout = plan.commits, plan.targets, plan.timeout
    bench = Workbench(repo, Config(**{**cfg.__dict__, "flags": list(plan.flags)}), targets, timeout)
    chain = _git(repo, "rev-list", "--first-parent", f"--max-count={commits + 1}", "HEAD").split()[::-1]
    rows = []
    try:
        print(f"verify: warm build of {chain[0][:12]} (the parent of the first commit)", file=sys.stderr)
        bench.move_to(chain[0])
        bench.test()
        for parent, commit in itertools.pairwise(chain):
            subject = _git(repo, "log", "-1", "--format=%s", commit).strip()
            print(f"verify: {commit[:12]} {subject[:60]}", file=sys.stderr)
            rows.append(verify_commit(bench, cfg, f"{commit[:10]} {subject}", parent, commit))
    finally:
        bench.close()
    return rows


def verify_synthetic(root: Path, packages: int, bazel: str, timeout: int) -> list[Row]:
    """The benchmark's change kinds, each committed on top of the previous, on a small synthetic repository."""
    repo = root / "repo"
    synthetic.generate(repo, packages, offline_bazelrc())
    mid = f"p{packages // 2 + 1:05d}"
    for name, change in synthetic.changes(repo, mid).items():
        if name == "nothing changed":
            continue
        change()
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=v", "-c", "user.email=v@example.com", "commit", "-q", "-m", name],
            check=True,
        )
    cfg = Config(workspace=repo, bazel=bazel, startup=[], cache_root=root / "cache")
    count = int(_git(repo, "rev-list", "--count", "HEAD").strip()) - 1
    try:
        return verify_history(repo, cfg, Plan(count, ["//..."], timeout))
    finally:
        shutdown_cached_servers(repo, root / "cache", bazel)


def main(argv: list[str]) -> int:
    """Run the check and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--commits", type=int, default=30, help="how many of the latest first-parent commits (default 30)")
    p.add_argument("--targets", nargs="+", default=["//..."], help="what to build and test (default //...)")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave these targets out of TARGETS (Bazel's negative pattern -PATTERN), e.g. a slow test",
    )
    p.add_argument("--synthetic", type=int, metavar="PACKAGES", help="instead: the benchmark's changes on a small repo")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per bazel test (default 3600)")
    p.add_argument("--bazel", default=os.environ.get("BAZEL", "bazel"))
    p.add_argument(
        "--bazel-flag",
        action="append",
        dest="flags",
        default=[],
        metavar="FLAG",
        help="option for the verification's bazel test (repeatable), e.g. --bazel-flag=--disk_cache=DIR: a disk-cache "
        "hit still counts as a re-run, since the local action cache no longer matched",
    )
    p.add_argument("--cache-dir", help="where the checkouts and output bases live (default: the affected tool's)")
    args = p.parse_args(argv)
    configure_logging(False)
    cwd = working_directory()
    cache_root = cwd / args.cache_dir if args.cache_dir else None
    if args.synthetic:
        root = Path(tempfile.mkdtemp(prefix="affected-verify-synthetic-"))
        try:
            rows = verify_synthetic(root, args.synthetic, args.bazel, args.timeout)  # no disk cache: all local
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print_table(rows, f"Synthetic repository, {args.synthetic} packages: the benchmark's change kinds")
    else:
        repo = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or cwd)
        cfg = Config(workspace=repo, bazel=args.bazel, cache_root=cache_root)
        targets = args.targets + [f"-{pattern}" for pattern in args.exclude]
        rows = verify_history(repo, cfg, Plan(args.commits, targets, args.timeout, args.flags))
        print_table(rows, f"{repo}: the last {len(rows)} commit(s), targets {' '.join(targets)}")
    return 1 if any(r.missed for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
