"""The embedded local registry: CNCF distribution (`docker-registry`) on 127.0.0.1, started on demand."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools.ports import free_port

DEFAULT_PORT = 5000
BINARY = "docker-registry"


def state_dir() -> Path:
    """Where the registry keeps its config, storage, log and state (MLOPS_REGISTRY_DIR overrides).

    Its port is 5000, or MLOPS_REGISTRY_PORT, or any free port when that one is taken.
    """
    configured = os.environ.get("MLOPS_REGISTRY_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "mlops-registry"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not a running registry.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def answers(addr: str, timeout: float = 2.0) -> bool:
    """True when http://ADDR/v2/ answers like a registry."""
    try:
        with urllib.request.urlopen(f"http://{addr}/v2/", timeout=timeout) as response:
            return response.status == 200
    except urllib.error.URLError, OSError:
        return False


def status() -> dict | None:
    """Returns {"addr", "pid", "dir"} of the running embedded registry, or None."""
    directory = state_dir()
    try:
        pid = int((directory / "registry.pid").read_text())
        addr = (directory / "registry.addr").read_text().strip()
    except OSError, ValueError:
        return None
    if _pid_alive(pid) and answers(addr):
        return {"addr": addr, "pid": pid, "dir": str(directory)}
    return None


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(wait_seconds: float = 20.0) -> dict:
    """Starts the registry if it is not running; returns its status."""
    running = status()
    if running:
        return running
    binary = shutil.which(BINARY) or f"/usr/bin/{BINARY}"
    if not os.path.exists(binary):
        raise RuntimeError(f"{BINARY} not found; it comes with the build root's docker-registry package")
    directory = state_dir()
    (directory / "storage").mkdir(parents=True, exist_ok=True)
    wanted = int(os.environ.get("MLOPS_REGISTRY_PORT", DEFAULT_PORT))  # 0: any free port
    port = wanted if wanted and _port_free(wanted) else free_port()
    addr = f"127.0.0.1:{port}"
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {directory / 'storage'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {addr}\n"
    )
    with open(directory / "registry.log", "ab") as log:
        process = subprocess.Popen(
            [binary, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # outlives `bazel run`
            cwd=directory,
        )
    (directory / "registry.pid").write_text(f"{process.pid}\n")
    (directory / "registry.addr").write_text(f"{addr}\n")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the registry exited with {process.returncode}; see {directory / 'registry.log'}")
        if answers(addr, timeout=1.0):
            return {"addr": addr, "pid": process.pid, "dir": str(directory)}
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the registry did not answer on {addr} within {wait_seconds:.0f} s")


def stop() -> bool:
    """Stops the embedded registry; returns False when it was not running."""
    running = status()
    directory = state_dir()
    if not running:
        return False
    os.kill(running["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _pid_alive(running["pid"]):
        time.sleep(0.1)
    if _pid_alive(running["pid"]):
        os.kill(running["pid"], signal.SIGKILL)
    for name in ("registry.pid", "registry.addr"):
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()
    return True
