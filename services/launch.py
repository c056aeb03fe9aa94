"""Starts the services' Bazel binaries as real processes on loopback ports, for tests and benchmarks."""

import atexit
import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

# Every process started here, so an interpreter that exits early still stops them.
_RUNNING: set[ServiceProcess] = set()


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``url``; return (status, body) whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_json(url: str, payload: object, headers: dict[str, str] | None = None, timeout: float = 10.0):
    """POST ``payload`` as JSON; return (status, decoded JSON body, response headers)."""
    data = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers)


class ServiceProcess:
    """One service binary running in its own process group, logging to a file."""

    def __init__(self, binary: str | Path, args: list[str], env: dict[str, str], log_path: Path) -> None:
        """Start ``binary`` with ``args``; ``env`` is added to this process's environment.

        Args:
            binary: path of the py_binary (e.g. from $(rootpath //services/predict:serve)).
            args: command-line flags.
            env: extra environment (PREDICT_*/API_* settings).
            log_path: file receiving the process's stdout and stderr.
        """
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(binary), *args],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() reaches anything it spawns
        )
        _RUNNING.add(self)

    def wait_until(self, url: str, status: int = 200, timeout: float = 90.0) -> None:
        """Poll ``url`` until it answers ``status``.

        Raises:
            RuntimeError: when the process exits first or ``timeout`` seconds pass (with the log's tail).
        """
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"process exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                last = get(url, timeout=2.0)[0]
                if last == status:
                    return
            except OSError as error:
                last = error
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not answer {status} within {timeout}s (last: {last}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the process wrote."""
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_lines(self) -> list[dict]:
        """The process's JSON log lines, parsed (other lines skipped)."""
        entries = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def stop(self, timeout: float = 15.0) -> int:
        """Send SIGTERM to the process group, wait, then SIGKILL if needed; return the exit code."""
        try:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(5)
            # Anything the service left behind in its group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.returncode
        finally:
            self._log.close()
            _RUNNING.discard(self)


@atexit.register
def _stop_all() -> None:
    for service in list(_RUNNING):
        service.stop(timeout=5.0)
