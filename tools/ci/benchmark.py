"""Benchmark: what CI (//tools/ci) costs for a one-service change against a change that affects everything.

    bazel run //tools/ci:benchmark                        # 8 services, 3 interleaved rounds
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
"""

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.affected.bazel import shutdown_cached_servers
from tools.ci import ci
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


def run_ci(repo: Path, root: Path, bazel: str, startup: list[str]) -> tuple[float, str]:
    """One CI run on the working tree against main; its wall time and summary.

    Raises:
        RuntimeError: when the CI run fails (the benchmark's changes must all pass).
    """
    argv = ["--workspace", str(repo), "--base", "main", "--bazel", bazel, "--cache-dir", str(root / "cache"),
            "--no-coverage", *[f"--startup-flag={f}" for f in startup]]  # fmt: skip
    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        code = ci.main(argv)
    seconds = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"CI failed on the benchmark repository:\n{out.getvalue()}")
    return seconds, out.getvalue()


def main(argv: list[str]) -> int:
    """Generate, warm up, time both changes interleaved, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=8, help="services in the generated repository (default 8)")
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

        one, everything = [], []
        for r in range(1, args.repeat + 1):
            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "."], check=True)
            (repo / "svc1" / "src.txt").write_text(f"svc1 round {r}\n")
            seconds, summary = run_ci(repo, root, args.bazel, startup)
            one.append(seconds)
            if "1 test target(s)" not in summary:
                raise RuntimeError(f"the one-service change did not test exactly one target:\n{summary}")
            print(f"round {r}: one service    {seconds:6.1f} s", file=sys.stderr)

            subprocess.run(["git", "-C", str(repo), "checkout", "-q", "--", "."], check=True)
            (repo / "common" / "lib.txt").write_text(f"shared round {r}\n")
            seconds, summary = run_ci(repo, root, args.bazel, startup)
            everything.append(seconds)
            if f"{args.services} test target(s)" not in summary:
                raise RuntimeError(f"the shared-library change did not test every service:\n{summary}")
            print(f"round {r}: everything     {seconds:6.1f} s", file=sys.stderr)

        one_median, all_median = statistics.median(one), statistics.median(everything)
        print(f"CI for a one-service change:   median {one_median:.1f} s over {len(one)} runs")
        print(f"CI for an all-affected change: median {all_median:.1f} s over {len(everything)} runs")
        print(f"ratio one-service / everything: {one_median / all_median:.0%} (goal <= 25 %)")
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    finally:
        subprocess.run([args.bazel, *startup, "shutdown"], cwd=repo, capture_output=True, check=False)
        shutdown_cached_servers(repo, root / "cache")
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
