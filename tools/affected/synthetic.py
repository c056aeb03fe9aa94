"""A synthetic monorepo for the affected tool's benchmark and verification: packages in a DAG and typical changes."""

import subprocess
from collections.abc import Callable
from pathlib import Path

MACROS = """\
def stamped(name, src):
    native.genrule(name = name, srcs = [src], outs = [name + ".out"], cmd = "cat $(SRCS) > $@ # v1")
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


def changes(repo: Path, mid: str) -> dict[str, Callable[[], object]]:
    """The typical changes, each applied to the working tree of ``repo`` (``mid``: a package without the macro)."""
    return {
        "source file edit": lambda: (repo / mid / "a.txt").write_text("changed\n"),
        "BUILD attribute edit": lambda: edit(repo / mid / "BUILD.bazel", "cat $(SRCS) > $@", "cat $(SRCS) | sort > $@"),
        "BUILD comment-only edit": lambda: edit(repo / mid / "BUILD.bazel", "# package", "# package, reworded"),
        ".bzl macro edit (10% of packages load it)": lambda: edit(repo / "build" / "macros.bzl", "# v1", "# v2"),
        "file deleted (glob)": (repo / mid / "b.txt").unlink,
        "nothing changed": lambda: None,
    }


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in a file, which must contain it."""
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"synthetic repo: {old!r} not in {path}")
    path.write_text(text.replace(old, new))
