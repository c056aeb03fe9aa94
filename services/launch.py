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
from collections.abc import Iterator
from pathlib import Path

from tools.ports import free_port

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


def group_rss_bytes(service: ServiceProcess) -> int:
    """Resident memory of every process in the service's process group (the binary's launcher and its Python)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != service.process.pid:
                continue
            status = (entry / "status").read_text()
        except ProcessLookupError, FileNotFoundError, PermissionError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


@contextlib.contextmanager
def running_stack(
    predict_serve: str, api_serve: str, *, workdir: Path, model_dir: Path, api_key: str, timeout: float = 180.0
) -> Iterator[dict]:
    """Start predict (serving ``model_dir``) and api (pointed at it, with ``api_key``) on free loopback ports.

    Args:
        predict_serve: path of //services/predict:serve.
        api_serve: path of //services/api:serve.
        workdir: where the key file and the logs go.
        model_dir: the model predict serves.
        api_key: the key api demands.
        timeout: seconds each service has to become ready.

    Yields:
        {"predict": ServiceProcess, "api": ServiceProcess, "predict_url": ..., "api_url": ..., "predict_port": ...}
        once both answer /readyz with 200; both are stopped when the context ends.
    """
    secret = workdir / "api-key"
    secret.write_text(api_key + "\n")
    predict_port, api_port = free_port(), free_port()
    stack = {
        "predict_port": predict_port,
        "predict_url": f"http://127.0.0.1:{predict_port}",
        "api_url": f"http://127.0.0.1:{api_port}",
    }
    stack["predict"] = ServiceProcess(
        predict_serve,
        ["--host", "127.0.0.1", "--port", str(predict_port)],
        {"PREDICT_MODEL_DIR": str(model_dir), "PREDICT_GRACEFUL_SHUTDOWN_SECONDS": "5"},
        workdir / "predict.log",
    )
    try:
        stack["api"] = ServiceProcess(
            api_serve,
            ["--host", "127.0.0.1", "--port", str(api_port), "--predict-url", stack["predict_url"]],
            {"API_API_KEY_FILE": str(secret), "API_PREDICT_TIMEOUT_SECONDS": "5", "API_PREDICT_RETRIES": "2"},
            workdir / "api.log",
        )
        stack["predict"].wait_until(stack["predict_url"] + "/readyz", timeout=timeout)
        stack["api"].wait_until(stack["api_url"] + "/readyz", timeout=timeout)
        yield stack
    finally:
        if "api" in stack:
            stack["api"].stop()
        stack["predict"].stop()


@atexit.register
def _stop_all() -> None:
    for service in list(_RUNNING):
        service.stop(timeout=5.0)
