"""Running `bazel query` on a checkout and reading its streamed_jsonproto output.

A checkout is either the user's workspace (the working tree, queried through the user's own
Bazel server) or a revision checked out into a cached git worktree with its own output base,
so the server stays warm between runs and only the packages that differ are reloaded.
"""

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("affected")

# Attributes that say where a rule is written, not what it is: a comment added above a target
# moves it without changing it.
_POSITION_ATTRS = frozenset({"generator_location"})


# Set by the py_binary launcher of this tool (or of `bazel run`); a Bazel-run binary started
# from here must find its own runfiles, not ours.
_LAUNCHER_ENV = ("RUNFILES_DIR", "RUNFILES_MANIFEST_FILE", "JAVA_RUNFILES", "PYTHON_RUNFILES", "PYTHONPATH",
                 "PYTHONSAFEPATH", "PYTHONNOUSERSITE")  # fmt: skip


def clean_env() -> dict[str, str]:
    """The environment for child Bazel commands: ours minus the launcher's runfiles variables."""
    return {k: v for k, v in os.environ.items() if k not in _LAUNCHER_ENV}


class BazelError(RuntimeError):
    """A Bazel command failed; the message carries Bazel's own error output."""


@dataclass
class Target:
    """One target from a query.

    Attributes:
        label: the canonical label.
        rule_class: the rule's class, or "source file" / "generated file".
        tags: the rule's tags.
        inputs: labels the rule depends on (every attribute, implicit ones included).
        definition: a canonical text of the rule (class, attributes minus positions); equal
            definitions build the same thing from the same inputs.
    """

    label: str
    rule_class: str
    tags: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    definition: str = ""
    attributes: dict = field(default_factory=dict)

    @property
    def is_rule(self) -> bool:
        """Whether this is a rule (not a file or package group)."""
        return self.rule_class not in ("source file", "generated file", "package group", "environment group")


def _attr_value(attr: dict):
    for key, value in attr.items():
        if key.endswith("Value") or key == "selectorList":
            return value
    return None


def parse_streamed_jsonproto(text: str) -> dict[str, Target]:
    """Targets from ``bazel query --output=streamed_jsonproto`` output, by label.

    Args:
        text: the query's stdout, one JSON object per line.
    """
    targets: dict[str, Target] = {}
    for line in text.splitlines():
        if not line:
            continue
        obj = json.loads(line)
        kind = obj.get("type")
        if kind == "RULE":
            rule = obj["rule"]
            attrs = {}
            tags: tuple[str, ...] = ()
            for attr in rule.get("attribute", ()):
                name = attr["name"]
                if name == "tags":
                    tags = tuple(attr.get("stringListValue", ()))
                if name in _POSITION_ATTRS:
                    continue
                attrs[name] = _attr_value(attr)
            definition = json.dumps([rule["ruleClass"], attrs], sort_keys=True)
            targets[rule["name"]] = Target(
                rule["name"], rule["ruleClass"], tags, tuple(rule.get("ruleInput", ())), definition, attrs
            )
        elif kind == "SOURCE_FILE":
            name = obj["sourceFile"]["name"]
            targets[name] = Target(name, "source file")
        elif kind == "GENERATED_FILE":
            gen = obj["generatedFile"]
            targets[gen["name"]] = Target(gen["name"], "generated file", inputs=(gen["generatingRule"],))
        elif kind == "PACKAGE_GROUP":
            name = obj["packageGroup"]["name"]
            targets[name] = Target(name, "package group")
    return targets


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def _skip(data: bytes, i: int, wire: int) -> int:
    if wire == 0:
        return _varint(data, i)[1]
    if wire == 2:
        size, i = _varint(data, i)
        return i + size
    if wire == 5:
        return i + 4
    if wire == 1:
        return i + 8
    raise ValueError(f"unsupported protobuf wire type {wire}")


def _fields(data: bytes, start: int, end: int):
    """(field number, wire type, value-or-(start, end)) for each field of one message."""
    i = start
    while i < end:
        key, i = _varint(data, i)
        field_no, wire = key >> 3, key & 7
        if wire == 2:
            size, i = _varint(data, i)
            yield field_no, wire, (i, i + size)
            i += size
        elif wire == 0:
            value, i = _varint(data, i)
            yield field_no, wire, value
        else:
            i = _skip(data, i, wire)


# Field numbers of Bazel's src/main/protobuf/build.proto that the graph needs.
_TARGET_RULE, _TARGET_SOURCE_FILE, _TARGET_GENERATED_FILE = 2, 3, 4
_RULE_NAME, _RULE_CLASS, _RULE_ATTRIBUTE, _RULE_INPUT = 1, 2, 4, 5
_ATTR_NAME, _ATTR_STRING_LIST = 1, 6
_FILE_NAME, _GENERATING_RULE = 1, 2


def parse_streamed_proto_graph(data: bytes) -> dict[str, Target]:
    """Targets (label, class, tags, inputs) from ``--output=streamed_proto``.

    Decoding the binary stream directly is several times cheaper, for Bazel and for us, than
    JSON; only the fields the dependency graph needs are read.
    """
    targets: dict[str, Target] = {}
    i, total = 0, len(data)
    while i < total:
        size, i = _varint(data, i)
        end = i + size
        for field_no, wire, value in _fields(data, i, end):
            if wire != 2:
                continue
            start, stop = value
            if field_no == _TARGET_RULE:
                name = rule_class = ""
                tags: list[str] = []
                inputs: list[str] = []
                for f, w, v in _fields(data, start, stop):
                    if w != 2:
                        continue
                    if f == _RULE_INPUT:
                        inputs.append(data[v[0] : v[1]].decode())
                    elif f == _RULE_NAME:
                        name = data[v[0] : v[1]].decode()
                    elif f == _RULE_CLASS:
                        rule_class = data[v[0] : v[1]].decode()
                    elif f == _RULE_ATTRIBUTE:
                        attr = list(_fields(data, v[0], v[1]))
                        names = [data[a[0] : a[1]] for fa, wa, a in attr if fa == _ATTR_NAME and wa == 2]
                        if names == [b"tags"]:
                            tags += [data[a[0] : a[1]].decode() for fa, wa, a in attr if fa == _ATTR_STRING_LIST]
                targets[name] = Target(name, rule_class, tuple(tags), tuple(inputs))
            elif field_no in (_TARGET_SOURCE_FILE, _TARGET_GENERATED_FILE):
                name, generating = "", ""
                for f, w, v in _fields(data, start, stop):
                    if w == 2 and f == _FILE_NAME:
                        name = data[v[0] : v[1]].decode()
                    elif w == 2 and f == _GENERATING_RULE and field_no == _TARGET_GENERATED_FILE:
                        generating = data[v[0] : v[1]].decode()
                if field_no == _TARGET_SOURCE_FILE:
                    targets[name] = Target(name, "source file")
                else:
                    targets[name] = Target(name, "generated file", inputs=(generating,))
        i = end
    return targets


@dataclass
class Bazel:
    """How to run Bazel on one checkout.

    Attributes:
        binary: the bazel executable.
        workspace: the checkout's root.
        startup: startup options (before the command).
        flags: options for every query (after the command).
    """

    binary: str
    workspace: Path
    startup: list[str]
    flags: list[str]

    def run(self, command: str, *args: str, check: bool = True, binary: bool = False) -> str | bytes:
        """Run ``bazel COMMAND ARGS`` in the checkout; returns stdout.

        Raises:
            BazelError: on a non-zero exit, with the tail of Bazel's stderr.
        """
        cmd = [self.binary, *self.startup, command, *self.flags, *args]
        log.debug("running %s", " ".join(cmd))
        with tempfile.TemporaryFile("w+") as err:
            result = subprocess.run(
                cmd,
                cwd=self.workspace,
                stdout=subprocess.PIPE,
                stderr=err,
                text=not binary,
                check=False,
                env=clean_env(),
            )
            if result.returncode != 0 and check:
                err.seek(0)
                tail = "\n".join(line for line in err.read().splitlines() if "ERROR" in line or "error" in line)[-2000:]
                raise BazelError(f"bazel {command} in {self.workspace} exited {result.returncode}: {tail}")
        return result.stdout

    def query(self, expression: str, *extra: str) -> dict[str, Target]:
        """Run one query and return its targets with their definitions.

        The expression goes through ``--query_file`` so long file lists never hit the
        argument-length limit.
        """
        with tempfile.NamedTemporaryFile("w", suffix=".query", delete=False) as qf:
            qf.write(expression)
        try:
            out = self.run(
                "query",
                f"--query_file={qf.name}",
                "--output=streamed_jsonproto",
                "--noproto:locations",
                "--proto:default_values=false",
                "--order_output=no",
                *extra,
            )
        finally:
            os.unlink(qf.name)
        return parse_streamed_jsonproto(out)

    def query_graph(self, expression: str) -> dict[str, Target]:
        """Run one query for the dependency graph only: labels, classes, tags and inputs."""
        with tempfile.NamedTemporaryFile("w", suffix=".query", delete=False) as qf:
            qf.write(expression)
        try:
            out = self.run(
                "query",
                f"--query_file={qf.name}",
                "--output=streamed_proto",
                "--noproto:locations",
                "--proto:default_values=false",
                "--proto:output_rule_attrs=tags",
                "--order_output=no",
                binary=True,
            )
        finally:
            os.unlink(qf.name)
        return parse_streamed_proto_graph(out)

    def query_labels(self, expression: str, *extra: str) -> list[str]:
        """Run one query with label output."""
        return [line for line in self.run("query", expression, "--output=label", *extra).splitlines() if line]


def default_startup(workspace: Path) -> list[str]:
    """Startup options that match how this repo's tools/bazel starts Bazel inside the build root.

    Inside the build root (MLOPS_IN_BUILDROOT=1) tools/bazel adds the build root's rc file;
    using the same startup options reuses the user's server instead of restarting it.
    """
    rc = workspace / "bazel" / "buildroot" / "buildroot.bazelrc"
    if os.environ.get("MLOPS_IN_BUILDROOT") == "1" and rc.is_file():
        return [f"--bazelrc={rc}"]
    return []


def cache_dir_for(repo_root: Path, cache_root: Path | None) -> Path:
    """The per-repository cache directory (cached worktrees and their Bazel output bases)."""
    root = cache_root or Path(os.environ.get("MLOPS_AFFECTED_CACHE") or Path.home() / ".cache" / "mlops-affected")
    return root / hashlib.sha256(str(repo_root).encode()).hexdigest()[:16]


class CachedCheckout:
    """A checkout of some revision in the cache, locked while in use.

    Files are written with ``git read-tree --reset -u`` and a private index, so the user's
    repository gets no worktree entry, and a reused checkout only rewrites the files that
    differ. Bazel runs there with its own output base, so its server stays warm.
    """

    def __init__(self, repo_root: Path, cache: Path, slot: str):
        """Prepare (not yet check out) the checkout named ``slot`` ("base" or "head")."""
        self.repo_root = repo_root
        self.dir = cache / slot
        self.output_base = cache / f"{slot}-output-base"
        self.index = cache / f"{slot}.index"
        self.marker = cache / f"{slot}.commit"
        cache.mkdir(parents=True, exist_ok=True)
        self._lock = open(cache / f"{slot}.lock", "w")  # noqa: SIM115 - held until close()

    def checkout(self, commit: str) -> Path:
        """Make the checkout hold ``commit``'s files; returns its directory."""
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        # Only this class writes there: when it already holds ``commit``, nothing to do.
        if self.dir.is_dir() and self.index.is_file() and self.marker.is_file() and self.marker.read_text() == commit:
            return self.dir
        git_dir = subprocess.run(
            ["git", "-C", str(self.repo_root), "rev-parse", "--absolute-git-dir"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not self.index.is_file():
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.marker.unlink(missing_ok=True)
        result = subprocess.run(
            ["git", f"--git-dir={git_dir}", f"--work-tree={self.dir}", "read-tree", "--reset", "-u", commit],
            env={**os.environ, "GIT_INDEX_FILE": str(self.index)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            self.index.unlink(missing_ok=True)
            raise BazelError(f"could not check out {commit} into {self.dir}: {result.stderr.strip()}")
        self.marker.write_text(commit)
        return self.dir

    def close(self) -> None:
        """Release the lock."""
        self._lock.close()


def shutdown_cached_servers(repo_root: Path, cache_root: Path | None, binary: str = "bazel") -> None:
    """Stop the Bazel servers of the cached worktrees (tests and benchmarks call this at the end)."""
    cache = cache_dir_for(repo_root, cache_root)
    for output_base in cache.glob("*-output-base"):
        workdir = cache / output_base.name.removesuffix("-output-base")
        if workdir.is_dir():
            subprocess.run(
                [binary, f"--output_base={output_base}", "shutdown"], cwd=workdir, capture_output=True, check=False
            )
