"""Running `bazel query` on one checkout, and stopping the Bazel servers of the cached checkouts."""

import json
import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.affected.checkout import output_bases
from tools.affected.query_output import Target, parse_streamed_proto
from tools.bazel_client import clean_env

log = logging.getLogger("affected")


class BazelError(RuntimeError):
    """A Bazel command failed; the message carries Bazel's own error output."""


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
        """Run one query and return its targets with their definitions (every attribute)."""
        return parse_streamed_proto(self._query_proto(expression, *extra), definitions=True)

    def query_graph(self, expression: str) -> dict[str, Target]:
        """Run one query for the dependency graph only: labels, classes, tags and inputs."""
        return parse_streamed_proto(self._query_proto(expression, "--proto:output_rule_attrs=tags"), definitions=False)

    def _query_proto(self, expression: str, *extra: str) -> bytes:
        """One query's ``--output=streamed_proto`` bytes.

        The expression goes through ``--query_file`` so long file lists never hit the
        argument-length limit.
        """
        with tempfile.NamedTemporaryFile("w", suffix=".query", delete=False) as qf:
            qf.write(expression)
        try:
            return self.run(
                "query",
                f"--query_file={qf.name}",
                "--output=streamed_proto",
                "--noproto:locations",
                "--proto:default_values=false",
                "--order_output=no",
                *extra,
                binary=True,
            )
        finally:
            os.unlink(qf.name)

    def output_base(self) -> Path:
        """This checkout's output base (``bazel info output_base``), where its external repositories are fetched."""
        return Path(self.run("info", "output_base").strip())

    def repository_mapping(self) -> dict[str, str]:
        """The main repository's apparent repository names -> canonical names (``bazel mod dump_repo_mapping ''``)."""
        return json.loads(self.run("mod", "dump_repo_mapping", ""))

    def query_labels(self, expression: str, *extra: str) -> list[str]:
        """Run one query with label output."""
        return [line for line in self.run("query", expression, "--output=label", *extra).splitlines() if line]


def shutdown_cached_servers(repo_root: Path, cache_root: Path | None, binary: str = "bazel") -> None:
    """Stop the Bazel servers of the cached checkouts (tests and benchmarks call this at the end)."""
    for workdir, output_base in output_bases(repo_root, cache_root):
        subprocess.run(
            [binary, f"--output_base={output_base}", "shutdown"], cwd=workdir, capture_output=True, check=False
        )
