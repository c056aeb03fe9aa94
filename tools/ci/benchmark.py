"""Benchmark: what CI (//tools/ci) costs for a one-service change against a change that affects everything.

    bazel run //tools/ci:benchmark                        # 16 services, 3 interleaved rounds
    bazel run //tools/ci:benchmark -- --services 4 --repeat 1

Generates a git repository shaped like this monorepo: SERVICES services that each build an
artefact from their own source and a shared library (a genrule doing real hashing work, about
--work-mb MB each), a test that checks the artefact, and an image-like target tagged
oci_image. A real nested Bazel serves it. After one warm-up run, each round times the full
CI driver (affected targets, tests, builds; no push, no coverage) for two changes made on top
of the same base commit, one after the other: a source edit in one service, and an edit of
the shared library every service depends on. Every round writes new contents, so no test
result is cached from an earlier round. Prints each time, the medians and their ratio (the
goal: one service <= 25 % of everything).

The ratio cannot go below about cores / SERVICES: the one-service change runs its two build
steps one after the other, the shared-library change runs 2 x SERVICES of them on every core.
With 8 services on 2 cores that floor was the goal itself (31-32 % measured on 2026-12-04, the
one-service run 1.5 s, everything 4.9 s), so the default is 16 services, whose floor on 2 cores
is 12.5 %. The one-service time does not grow with the services (1.4 s with 16).
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

from tools.affected.api import kinds
from tools.affected.bazel import shutdown_cached_servers
from tools.ci import ci, summary
from tools.ci.pipeline import Run, run_pipeline
from tools.nested_bazel import offline_bazelrc

# Hashes WORK_MB MB derived from the sources: the stand-in for compiling or packaging.
_WORK = "cat $(SRCS) > $@.in && head -c {mb}M /dev/zero | cat $@.in - | sha256sum | cut -c1-64 > $@ && rm $@.in"


def service_build(name: str, work_mb: int) -> str:
    """The BUILD file of one service: artefact, test, image."""
    cmd = _WORK.format(mb=work_mb)
    return (
        f'genrule(name = "artefact", srcs = ["src.txt", "//common:lib"], outs = ["{name}.sha"], cmd = "{cmd}")\n'
        f'sh_test(name = "{name}_test", srcs = ["check.sh"], data = [":artefact"], args = ["$(rootpath :artefact)"])\n'
        f'genrule(name = "image", srcs = [":artefact"], outs = ["{name}.tar"], cmd = "{cmd}", tags = ["oci_image"])\n'
    )


# The test recomputes nothing: it checks the artefact is a sha256, which takes a moment like a
# small unit test.
CHECK = '#!/bin/sh\ngrep -Eq "^[0-9a-f]{64}$" "$1"\n'


def generate(repo: Path, services: int, work_mb: int) -> None:
    """Write and commit the synthetic repository."""
    files = {
        "MODULE.bazel": 'module(name = "ci_benchmark")\n',
        ".bazelrc": offline_bazelrc(),
        "common/BUILD.bazel": 'filegroup(name = "lib", srcs = ["lib.txt"], visibility = ["//visibility:public"])\n',
        "common/lib.txt": "shared v0\n",
    }
    for i in range(services):
        name = f"svc{i}"
        files[f"{name}/BUILD.bazel"] = service_build(name, work_mb)
        files[f"{name}/src.txt"] = f"{name} v0\n"
        files[f"{name}/check.sh"] = CHECK
    for path, text in files.items():
        file = repo / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        if path.endswith(".sh"):
            file.chmod(0o755)
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)


def run_ci(repo: Path, root: Path, bazel: str, startup: list[str]) -> tuple[float, Run]:
    """One CI run on the working tree against main; its wall time and its steps.

    Raises:
        RuntimeError: when the CI run fails (the benchmark's changes must all pass).
    """
    argv = ["--workspace", str(repo), "--base", "main", "--bazel", bazel, "--cache-dir", str(root / "cache"),
            "--no-coverage", *[f"--startup-flag={f}" for f in startup]]  # fmt: skip
    started = time.monotonic()
    run = run_pipeline(ci.options_from_args(ci.build_parser().parse_args(argv)))
    seconds = time.monotonic() - started
    if run.failed:
        raise RuntimeError(f"CI failed on the benchmark repository:\n{summary.markdown(run)}")
    return seconds, run


def step_seconds(run: Run) -> dict[str, float]:
    """Seconds per pipeline step, and per step of the affected computation inside the first one."""
    seconds = {step.name: step.seconds for step in run.steps if step.status != "skipped"}
    timings = run.affected.timings if run.affected is not None else {}
    seconds.update({f"  affected: {name}": value for name, value in timings.items() if name != "total"})
    return seconds


def tested(run: Run) -> int:
    """How many test targets the run's affected set selected."""
    return len(run.result.labels(kinds.TEST))


def print_breakdown(one: list[Run], everything: list[Run]) -> None:
    """Median seconds of each step for both changes: where the fixed cost is."""
    one_steps = [step_seconds(r) for r in one]
    all_steps = [step_seconds(r) for r in everything]
    names = list(dict.fromkeys([n for s in all_steps + one_steps for n in s]))
    print(f"{'step (median seconds)':44} {'one service':>11} {'everything':>11}")
    for name in names:
        a = statistics.median(s.get(name, 0.0) for s in one_steps)
        b = statistics.median(s.get(name, 0.0) for s in all_steps)
        print(f"{name:44} {a:11.1f} {b:11.1f}")


def main(argv: list[str]) -> int:
    """Generate, warm up, time both changes interleaved, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=16, help="services in the generated repository (default 16)")
    p.add_argument("--work-mb", type=int, default=400, help="MB each build step hashes (default 400)")
    p.add_argument("--repeat", type=int, default=3, help="interleaved rounds (medians are printed)")
    p.add_argument("--dir", help="where to generate (default: a temporary directory, removed at the end)")
    p.add_argument("--bazel", default=os.environ.get("BAZEL", "bazel"))
    args = p.parse_args(argv)

    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="ci-bench-"))
    repo = root / "repo"
    startup = [f"--output_user_root={root / 'bazel'}", "--max_idle_secs=300"]
    shutil.rmtree(repo, ignore_errors=True)
    try:
        generate(repo, args.services, args.work_mb)
        print(f"ci benchmark: {args.services} services, {args.work_mb} MB of hashing per step: {repo}", file=sys.stderr)
        (repo / "svc0" / "src.txt").write_text("warm-up\n")
        seconds, _ = run_ci(repo, root, args.bazel, startup)
        print(f"warm-up (cold servers, one service): {seconds:.1f} s", file=sys.stderr)

        one, everything, one_runs, all_runs = [], [], [], []
        for r in range(1, args.repeat + 1):
            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "."], check=True)
            (repo / "svc1" / "src.txt").write_text(f"svc1 round {r}\n")
            seconds, run = run_ci(repo, root, args.bazel, startup)
            one.append(seconds)
            one_runs.append(run)
            if tested(run) != 1:
                raise RuntimeError(f"the one-service change did not test exactly one target:\n{summary.markdown(run)}")
            print(f"round {r}: one service    {seconds:6.1f} s", file=sys.stderr)

            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "."], check=True)
            (repo / "common" / "lib.txt").write_text(f"shared round {r}\n")
            seconds, run = run_ci(repo, root, args.bazel, startup)
            everything.append(seconds)
            all_runs.append(run)
            if tested(run) != args.services:
                raise RuntimeError(f"the shared-library change did not test every service:\n{summary.markdown(run)}")
            print(f"round {r}: everything     {seconds:6.1f} s", file=sys.stderr)

        print_breakdown(one_runs, all_runs)
        one_median, all_median = statistics.median(one), statistics.median(everything)
        print(f"CI for a one-service change:   median {one_median:.1f} s over {len(one)} runs")
        print(f"CI for an all-affected change: median {all_median:.1f} s over {len(everything)} runs")
        print(f"ratio one-service / everything: {one_median / all_median:.0%} (goal <= 25 %)")
        cores = os.cpu_count() or 1
        print(f"lowest ratio this repository allows on {cores} cores: {min(1.0, cores / args.services):.0%}")
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}, {cores} cores")
    finally:
        subprocess.run([args.bazel, *startup, "shutdown"], cwd=repo, capture_output=True, check=False)
        shutdown_cached_servers(repo, root / "cache")
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
