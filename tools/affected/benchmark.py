"""Benchmark: the affected-targets tool against `bazel query 'deps(//...)'` on a synthetic monorepo.

    bazel run //tools/affected:benchmark                       # ~10,000 targets
    bazel run //tools/affected:benchmark -- --packages 200     # smaller, quicker

Generates a git repository of PACKAGES packages x 10 rules (filegroups over globs, genrule
chains, sh_binary, sh_tests, one manual test, macro-made genrules) wired into a DAG across
packages, warms a Bazel server on it, then times typical changes. Every time is the median
of --repeat warm runs; the base worktree's server is warmed first as it is between CI runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.affected.affected import Config, compute, configure_logging
from tools.affected.bazel import shutdown_cached_servers

MACROS = """\
def stamped(name, src):
    native.genrule(name = name, srcs = [src], outs = [name + ".out"], cmd = "cat $< > $@ # v1")
"""


def package_build(i: int, n: int) -> str:
    """The BUILD file of package ``i``: 10 rules, depending on two earlier packages."""
    deps = sorted({f"//p{j:05d}:lib" for j in (i - 1, i // 2, i - 7) if 0 <= j < i})
    use_macro = i % 10 == 0
    lines = ['load("//build:macros.bzl", "stamped")' if use_macro else "# package", ""]
    lines.append(f'filegroup(name = "lib", srcs = glob(["*.txt"]) + {deps!r}, visibility = ["//visibility:public"])')
    for g in range(1, 5):
        src = ":lib" if g == 1 else f":gen{g - 1}"
        lines.append(f'genrule(name = "gen{g}", srcs = ["{src}"], outs = ["gen{g}.out"], cmd = "cat $(SRCS) > $@")')
    lines.append('sh_binary(name = "bin", srcs = ["run.sh"], data = [":gen4"])')
    lines.append('sh_test(name = "unit_test", srcs = ["run.sh"], data = [":gen2", "testdata.json"])')
    lines.append('sh_test(name = "it_test", srcs = ["run.sh"], data = [":bin"], size = "medium")')
    lines.append('sh_test(name = "manual_test", srcs = ["run.sh"], data = [":lib"], tags = ["manual"])')
    if use_macro:
        lines.append('stamped(name = "stamp", src = ":lib")')
    else:
        lines.append('genrule(name = "stamp", srcs = [":lib"], outs = ["stamp.out"], cmd = "cat $(SRCS) > $@")')
    return "\n".join(lines) + "\n"


def generate(repo: Path, packages: int, bazelrc: str) -> None:
    """Write and commit the synthetic repository."""
    repo.mkdir(parents=True)
    (repo / "MODULE.bazel").write_text('module(name = "synthetic")\n')
    (repo / ".bazelrc").write_text(bazelrc)
    (repo / "build").mkdir()
    (repo / "build" / "BUILD.bazel").write_text("")
    (repo / "build" / "macros.bzl").write_text(MACROS)
    for i in range(packages):
        pkg = repo / f"p{i:05d}"
        pkg.mkdir()
        (pkg / "BUILD.bazel").write_text(package_build(i, packages))
        for f in ("a.txt", "b.txt", "c.txt"):
            (pkg / f).write_text(f"{i} {f}\n")
        (pkg / "testdata.json").write_text("{}\n")
        run = pkg / "run.sh"
        run.write_text("#!/bin/sh\nexit 0\n")
        run.chmod(0o755)
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.monotonic()
        result = fn()
        times.append(time.monotonic() - t)
    return statistics.median(times), result


def main(argv: list[str]) -> int:
    """Generate, warm up, time, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--packages", type=int, default=1000, help="packages to generate (x10 rules; default 1000)")
    p.add_argument("--repeat", type=int, default=3, help="warm runs per measurement (median)")
    p.add_argument("--dir", help="where to generate (default: a temporary directory, removed at the end)")
    p.add_argument("--bazel", default=os.environ.get("BAZEL", "bazel"))
    args = p.parse_args(argv)
    configure_logging(False)
    import logging  # noqa: PLC0415

    logging.getLogger("affected").setLevel(logging.WARNING)

    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY") or os.getcwd())
    rc = "common --noenable_workspace\n"
    registry = workspace / "bazel" / "buildroot" / "registry"
    if registry.is_dir():  # inside the offline build root
        stub = workspace / "bazel" / "buildroot" / "coverage_tools_stub"
        rc += f"common --registry=file://{registry}\ncommon --nosandbox_debug\n"
        rc += f"common --override_repository=bazel_tools~remote_coverage_tools_extension~remote_coverage_tools={stub}\n"

    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="affected-bench-"))
    repo, cache = root / "repo", root / "cache"
    startup = [f"--output_user_root={root / 'bazel'}", "--max_idle_secs=600"]
    shutil.rmtree(repo, ignore_errors=True)
    try:
        t = time.monotonic()
        generate(repo, args.packages, rc)
        print(f"generated {args.packages} packages in {time.monotonic() - t:.1f} s: {repo}", file=sys.stderr)

        def query_deps():
            out = subprocess.run([args.bazel, *startup, "query", "deps(//...)"], cwd=repo, capture_output=True,
                                 text=True, check=True).stdout  # fmt: skip
            return out.count("\n")

        def count_rules():
            out = subprocess.run([args.bazel, *startup, "query", "kind(rule, //...)"], cwd=repo, capture_output=True,
                                 text=True, check=True).stdout  # fmt: skip
            return out.count("\n")

        t = time.monotonic()
        query_deps()
        print(f"cold server + first deps(//...): {time.monotonic() - t:.1f} s", file=sys.stderr)
        rules = count_rules()
        deps_time, nodes = timed(query_deps, args.repeat)
        print(f"{rules} rules; warm deps(//...): {deps_time:.2f} s", file=sys.stderr)

        mid = f"p{args.packages // 2 + 1:05d}"  # a package that does not use the macro
        changes = {
            "source file edit": lambda: (repo / mid / "a.txt").write_text("changed\n"),
            "BUILD attribute edit": lambda: _edit(
                repo / mid / "BUILD.bazel", "cat $(SRCS) > $@", "cat $(SRCS) | sort > $@"
            ),
            "BUILD comment-only edit": lambda: _edit(repo / mid / "BUILD.bazel", "# package", "# package, reworded"),
            ".bzl macro edit (10% of packages load it)": lambda: _edit(repo / "build" / "macros.bzl", "# v1", "# v2"),
            "file deleted (glob)": (repo / mid / "b.txt").unlink,
            "nothing changed": lambda: None,
        }
        cfg = Config(workspace=repo, base="main", bazel=args.bazel, startup=startup, cache_root=cache)
        rows = []
        for name, change in changes.items():
            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--force", "main"], check=True)
            subprocess.run(["git", "-C", str(repo), "clean", "-q", "-fdx"], check=True)
            change()
            compute(cfg)  # warm-up: the base worktree's server, the changed packages
            # Interleaved with deps(//...) runs, so a busy machine slows both alike.
            tool_times, deps_times = [], []
            for _ in range(args.repeat):
                deps_times.append(timed(query_deps, 1)[0])
                seconds, result = timed(lambda: compute(cfg), 1)
                tool_times.append(seconds)
            seconds, deps_here = statistics.median(tool_times), statistics.median(deps_times)
            if not result.exact:
                print(f"{name}: fell back to everything: {result.reason}", file=sys.stderr)
            rows.append((name, seconds, deps_here, len(result.targets), result.exact))
            print(f"{name}: {seconds:.2f} s, {len(result.targets)} targets, {result.timings}", file=sys.stderr)

        print(f"\nSynthetic monorepo: {args.packages} packages, {rules} rules, deps(//...) = {nodes} nodes")
        print(f"bazel query 'deps(//...)' (warm server): {deps_time:.2f} s  (median of {args.repeat})\n")
        print(f"{'change':45} {'tool (s)':>9} {'deps (s)':>9} {'ratio':>6} {'affected':>9}  exact")
        for name, seconds, deps_here, count, exact in rows:
            print(f"{name:45} {seconds:9.2f} {deps_here:9.2f} {seconds / deps_here:6.2f} {count:9d}  {exact}")
        return 0
    finally:
        subprocess.run([args.bazel, *startup, "shutdown"], cwd=repo, capture_output=True, check=False)
        shutdown_cached_servers(repo, cache, args.bazel)
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"benchmark: {old!r} not in {path}")
    path.write_text(text.replace(old, new))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
