"""Benchmark: the affected-targets tool against `bazel query 'deps(//...)'` on a synthetic monorepo.

    bazel run //tools/affected:benchmark                       # ~10,000 targets
    bazel run //tools/affected:benchmark -- --packages 200     # smaller, quicker

Generates a git repository of PACKAGES packages x 10 rules (filegroups over globs, genrule
chains, sh_binary, sh_tests, one manual test, macro-made genrules) wired into a DAG across
packages, warms a Bazel server on it, then times typical changes. Every time is the median
of --repeat warm runs, interleaved with as many `deps(//...)` runs; each change gets one
warm-up run first, which fills the tool's base-result cache as a previous CI run on the same
merge-base would have (that cold-cache time is printed too).
"""

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.affected.api import Config, compute, configure_logging
from tools.affected.bazel import shutdown_cached_servers
from tools.affected.synthetic import changes, generate
from tools.nested_bazel import offline_bazelrc


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.monotonic()
        result = fn()
        times.append(time.monotonic() - t)
    return statistics.median(times), result


@dataclass
class Bench:
    """The generated repository and how to query it."""

    repo: Path
    cache: Path
    bazel: str
    startup: list[str]

    def query_count(self, expression: str) -> int:
        """Run a label query on the repository's own server; the number of lines it printed."""
        out = subprocess.run(
            [self.bazel, *self.startup, "query", expression], cwd=self.repo, capture_output=True, text=True, check=True
        ).stdout
        return out.count("\n")

    def reset(self) -> None:
        """Back to the committed base."""
        subprocess.run(["git", "-C", str(self.repo), "checkout", "-q", "--force", "main"], check=True)
        subprocess.run(["git", "-C", str(self.repo), "clean", "-q", "-fdx"], check=True)

    def shutdown(self) -> None:
        """Stop every server the benchmark started (its own and the tool's helpers)."""
        subprocess.run([self.bazel, *self.startup, "shutdown"], cwd=self.repo, capture_output=True, check=False)
        shutdown_cached_servers(self.repo, self.cache, self.bazel)


def measure(bench: Bench, name: str, change: Callable[[], object], repeat: int) -> tuple:
    """One change: a warm-up run, then ``repeat`` runs interleaved with ``deps(//...)``; the row for the table."""
    bench.reset()
    change()
    cfg = Config(workspace=bench.repo, base="main", bazel=bench.bazel, startup=bench.startup, cache_root=bench.cache)
    warmup, _ = timed(lambda: compute(cfg), 1)  # the first run fills the base cache and loads the changed packages
    # Interleaved with deps(//...) runs, so a busy machine slows both alike.
    tool_times, deps_times = [], []
    result = None
    for _ in range(repeat):
        deps_times.append(timed(lambda: bench.query_count("deps(//...)"), 1)[0])
        seconds, result = timed(lambda: compute(cfg), 1)
        tool_times.append(seconds)
    seconds, deps_here = statistics.median(tool_times), statistics.median(deps_times)
    if not result.exact:
        print(f"{name}: fell back to everything: {result.reason}", file=sys.stderr)
    print(f"{name}: warm-up {warmup:.2f} s, then {seconds:.2f} s, {len(result.targets)} targets, {result.timings}",
          file=sys.stderr)  # fmt: skip
    return name, seconds, deps_here, len(result.targets), result.exact, warmup


def main(argv: list[str]) -> int:
    """Generate, warm up, time, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--packages", type=int, default=1000, help="packages to generate (x10 rules; default 1000)")
    p.add_argument("--repeat", type=int, default=5, help="warm runs per measurement (median)")
    p.add_argument("--dir", help="where to generate (default: a temporary directory, removed at the end)")
    p.add_argument("--bazel", default=os.environ.get("BAZEL", "bazel"))
    args = p.parse_args(argv)
    configure_logging(False)
    logging.getLogger("affected").setLevel(logging.WARNING)

    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="affected-bench-"))
    bench = Bench(
        root / "repo", root / "cache", args.bazel, [f"--output_user_root={root / 'bazel'}", "--max_idle_secs=600"]
    )
    shutil.rmtree(bench.repo, ignore_errors=True)
    try:
        t = time.monotonic()
        generate(bench.repo, args.packages, offline_bazelrc())
        print(f"generated {args.packages} packages in {time.monotonic() - t:.1f} s: {bench.repo}", file=sys.stderr)
        t = time.monotonic()
        bench.query_count("deps(//...)")
        print(f"cold server + first deps(//...): {time.monotonic() - t:.1f} s", file=sys.stderr)
        rules = bench.query_count("kind(rule, //...)")
        deps_time, nodes = timed(lambda: bench.query_count("deps(//...)"), args.repeat)
        print(f"{rules} rules; warm deps(//...): {deps_time:.2f} s", file=sys.stderr)
        mid = f"p{args.packages // 2 + 1:05d}"  # a package that does not use the macro
        rows = [measure(bench, name, change, args.repeat) for name, change in changes(bench.repo, mid).items()]

        print(f"\nSynthetic monorepo: {args.packages} packages, {rules} rules, deps(//...) = {nodes} nodes")
        print(f"bazel query 'deps(//...)' (warm server): {deps_time:.2f} s  (median of {args.repeat})")
        print(f"first run on a cold base cache (base server start + deps(//...) at the base): {rows[0][5]:.2f} s\n")
        print(f"{'change':45} {'tool (s)':>9} {'deps (s)':>9} {'ratio':>6} {'affected':>9}  exact")
        for name, seconds, deps_here, count, exact, _ in rows:
            print(f"{name:45} {seconds:9.2f} {deps_here:9.2f} {seconds / deps_here:6.2f} {count:9d}  {exact}")
        return 0
    finally:
        bench.shutdown()
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
