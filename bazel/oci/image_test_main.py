"""Runs an OCI image for real and checks it: structure first, then HTTP checks against the running entrypoint.

The image is unpacked layer by layer (whiteouts honoured) into a temporary root, then its
entrypoint runs with the image's Env, User and WorkingDir inside a private mount and PID
namespace (`unshare --mount --pid --fork`) after chroot. No container engine is needed; the
test must run as root (it does, inside the build root).
"""

import argparse
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bazel.oci import ocilib
from tools.ports import free_port

# Names that must not ship in application layers.
SECRET_NAMES = frozenset(
    {".env", ".netrc", ".pypirc", "id_rsa", "id_ed25519", "credentials", ".git-credentials", "user.bazelrc", ".bazelrc"}
)
SECRET_SUFFIXES = (".key", ".p12", ".pfx")
LEFTOVER_PARTS = frozenset({".git", ".pytest_cache", ".ruff_cache", ".mypy_cache"})

# PEP 552 flags of a bytecode file that never consults its source: what py_layer writes. A pyc
# with other flags (a timestamp one) was left by running something during the build.
_UNCHECKED_HASH_FLAGS = (1).to_bytes(4, "little")


def leftover(name: str, member: tarfile.TarInfo, data: bytes | None) -> bool:
    """True for VCS or tool caches, .pyo files, and bytecode that py_layer did not write."""
    parts = name.split("/")
    if not LEFTOVER_PARTS.isdisjoint(parts) or parts[-1].endswith(".pyo"):
        return True
    if "__pycache__" in parts[:-1]:
        # py_layer's bytecode: a .pyc directly in __pycache__, unchecked-hash when its header is read.
        wrong_place = parts[-2] != "__pycache__" or not parts[-1].endswith(".pyc")
        return wrong_place or (data is not None and data[4:8] != _UNCHECKED_HASH_FLAGS)
    return parts[-1].endswith(".pyc") or (parts[-1] == "__pycache__" and not member.isdir())


def fail(message: str) -> None:
    """Fails the test with one clear line."""
    raise SystemExit(f"image_test: FAIL: {message}")


def layer_names(layout: Path, descriptor: dict) -> list[tuple[str, tarfile.TarInfo, bytes | None]]:
    """Lists a layer's members; reads the content of small regular files (for the secret scan)."""
    result = []
    with tarfile.open(ocilib.blob_path(layout, descriptor["digest"]), "r:gz") as tar:
        for member in tar:
            data = None
            if member.isreg() and member.size < 256 * 1024:
                data = tar.extractfile(member).read()
            result.append((member.name.lstrip("./"), member, data))
    return result


def check_structure(layout: Path, config: dict, manifest: dict, args: argparse.Namespace) -> None:  # noqa: PLR0912 - one flat list of checks
    """Non-root user, an entrypoint, labels, and no build leftovers or secrets in the non-base layers."""
    image = config["config"]
    user = image.get("User", "")
    if user != args.expect_user:
        fail(f"User is {user!r}, expected {args.expect_user!r}")
    if user.split(":")[0] in ("", "0", "root"):
        fail(f"the image runs as root (User={user!r})")
    if not image.get("Entrypoint"):
        fail("the image has no Entrypoint")
    labels = image.get("Labels", {})
    for key in args.expect_label:
        if not labels.get(key):
            fail(f"label {key} is missing or empty (labels: {sorted(labels)})")
    if config.get("created") != ocilib.CREATED:
        fail(f"created is {config.get('created')!r}, expected the fixed {ocilib.CREATED}")
    layers = manifest["layers"]
    if len(layers) < 3:
        fail(f"expected base, third-party and application layers; found {len(layers)}")
    problems = []
    for index, descriptor in enumerate(layers[1:], start=1):
        is_app = index >= 2  # past base and third-party: data and application layers
        for name, member, data in layer_names(layout, descriptor):
            base = name.split("/")[-1]
            if leftover(name, member, data):
                problems.append(f"layer {index}: build leftover {name}")
            if member.mtime != ocilib.EPOCH or member.uid != 0:
                problems.append(f"layer {index}: {name} has mtime {member.mtime} uid {member.uid}")
            if is_app:
                if base in SECRET_NAMES or base.endswith(SECRET_SUFFIXES):
                    problems.append(f"layer {index}: secret-like file {name}")
                if base.endswith("_test.py") or base in ("conftest.py", "pytest_main.py"):
                    problems.append(f"layer {index}: test file {name}")
                if data and b"PRIVATE KEY-----" in data:
                    problems.append(f"layer {index}: a private key in {name}")
    if problems:
        fail("\n  ".join(["bad files in the image:", *problems[:40]]))


def resolve_in_root(rootfs: Path, path: str) -> Path:
    """Follows symlinks of `path` inside `rootfs` (absolute links are relative to the image root)."""
    current = rootfs
    parts = [p for p in path.split("/") if p]
    hops = 0
    while parts:
        part = parts.pop(0)
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                fail(f"symlink loop resolving {path}")
            target = os.readlink(candidate)
            parts = [p for p in target.split("/") if p] + parts
            current = rootfs if target.startswith("/") else current
            continue
        current = candidate
    return current


# Character devices programs expect (major, minor); made with mknod, so no mount is needed.
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}


def make_devices(rootfs: Path) -> None:
    """Creates /dev nodes in the unpacked root (as root; the filesystem must allow devices)."""
    dev = rootfs / "dev"
    dev.mkdir(exist_ok=True)
    for name, (major, minor) in DEVICES.items():
        os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(dev / name, 0o666)
    (dev / "shm").mkdir(mode=0o1777, exist_ok=True)  # POSIX semaphores (joblib, multiprocessing)
    os.chmod(dev / "shm", 0o1777)


def propagation_is_private(path: Path) -> bool:
    """True when the mount holding `path` is visible here and not shared (a mount below it cannot leak)."""
    best, shared = "", True
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        mountpoint, optional = fields[4], fields[6 : fields.index("-")]
        if (str(path) + "/").startswith(mountpoint.rstrip("/") + "/") and len(mountpoint) > len(best):
            best, shared = mountpoint, any(o.startswith("shared:") for o in optional)
    return bool(best) and not shared


def inner(rootfs: str, spec_path: str) -> None:
    """PID 1 of the namespace: mount /proc if that cannot leak, chroot, drop to the user, exec."""
    spec = json.loads(Path(spec_path).read_text())
    root = Path(rootfs)
    if propagation_is_private(root):
        (root / "proc").mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    else:
        print("image_test: no /proc in the container (its mount could propagate to the host)", file=sys.stderr)
    os.chroot(rootfs)
    os.chdir(spec["workdir"] or "/")
    uid, _, gid = spec["user"].partition(":")
    os.setgroups([])
    os.setgid(int(gid or uid))
    os.setuid(int(uid))
    argv = spec["argv"]
    os.execve(argv[0], argv, spec["env"])


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """One HTTP request to a container; returns (status, body)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def parse_check(check: str) -> tuple[str, str, bytes | None, dict[str, str], int, str]:
    """Parses "METHOD PATH [@BODY_FILE] [H:Name=Value ...] STATUS [SUBSTRING]"."""
    words = check.split()
    method, path, rest = words[0], words[1], words[2:]
    body = None
    if rest and rest[0].startswith("@"):
        body = Path(rest.pop(0)[1:]).read_bytes()
    headers = {}
    while rest and rest[0].startswith("H:"):
        key, _, value = rest.pop(0)[2:].partition("=")
        headers[key] = value
    status = int(rest.pop(0))
    return method, path, body, headers, status, " ".join(rest)


def namespace_children(pid: int) -> list[int]:
    """Children of a process (the namespace's PID 1 is unshare's only child)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


class Container:
    """One unpacked image running in its own mount+PID namespace, on a free port of 127.0.0.1."""

    def __init__(self, name: str, layout: Path, *, port_env: str, env: list[str], mounts: list[str], workdir: Path):
        self.name, self.layout, self.port_env = name, layout, port_env
        self.env, self.mounts = env, mounts
        self.dir = workdir / name
        self.log_path = self.dir / "container.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        """Unpacks the image, checks its entrypoint exists, and starts it."""
        _, _, config = ocilib.load_layout(self.layout)
        rootfs = self.dir / "rootfs"
        rootfs.mkdir(parents=True)
        started = time.monotonic()
        ocilib.unpack_layers(self.layout, rootfs)
        make_devices(rootfs)
        print(f"image_test: {self.name}: unpacked in {time.monotonic() - started:.1f} s", file=sys.stderr)
        image = config["config"]
        argv = image["Entrypoint"] + image.get("Cmd", [])
        if not resolve_in_root(rootfs, argv[0]).is_file():
            fail(f"{self.name}: the entrypoint {argv[0]} is not a file in the image")
        for arg in argv[1:]:
            if arg.startswith("/") and not resolve_in_root(rootfs, arg).exists():
                fail(f"{self.name}: the entrypoint argument {arg} does not exist in the image")
        self.port = free_port()
        env = dict(item.split("=", 1) for item in image.get("Env", []))
        env[self.port_env] = str(self.port)
        env.update(item.split("=", 1) for item in self.env)
        for mount in self.mounts:
            inside, _, outside = mount.partition("=")
            target = rootfs / inside.lstrip("/")
            if Path(outside).is_dir():
                shutil.copytree(outside, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(outside, target)
        spec = self.dir / "spec.json"
        spec.write_text(
            json.dumps(
                {"argv": argv, "env": env, "user": image.get("User", "0"), "workdir": image.get("WorkingDir", "/")}
            )
        )
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                # The build root's / is not a mount point, so unshare must leave propagation alone.
                [
                    "unshare",
                    "--mount",
                    "--propagation",
                    "unchanged",
                    "--pid",
                    "--fork",
                    "--kill-child",
                    sys.executable,
                    "-S",
                    os.path.abspath(__file__),
                    "--inner",
                    str(rootfs),
                    str(spec),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        print(
            f"image_test: {self.name}: running {argv} as {image.get('User')} on 127.0.0.1:{self.port}", file=sys.stderr
        )

    def wait(self, path: str, timeout: float, want_status: int | None = None) -> None:
        """Polls PATH until it answers (with `want_status`, if given), the process dies, or time runs out."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                fail(f"{self.name}: the container exited with {self.process.returncode} before answering")
            try:
                status, _ = request(self.port, "GET", path, None, timeout=2.0)
                if want_status is None or status == want_status:
                    print(
                        f"image_test: {self.name}: {path} answered after {time.monotonic() - started:.1f} s",
                        file=sys.stderr,
                    )
                    return
            except urllib.error.URLError, OSError:
                pass
            time.sleep(0.3)
        fail(f"{self.name}: no {want_status or 'answer'} on 127.0.0.1:{self.port}{path} within {timeout:.0f} s")

    def dump_log(self) -> None:
        """Writes the tail of the container's output to stderr."""
        if self.log_path.exists():
            text = self.log_path.read_text(errors="replace")[-6000:]
            sys.stderr.write(f"--- {self.name} output ---\n{text}\n")

    def stop(self) -> None:
        """Kills the namespace's PID 1 (the kernel then kills everything in it) and reaps unshare."""
        if self.process is None:
            return
        for child in namespace_children(self.process.pid):
            os.kill(child, signal.SIGKILL)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_checks(container: Container, checks: list[str]) -> None:
    """Runs each HTTP check against the container."""
    for method, path, body, headers, status, substring in (parse_check(c) for c in checks):
        got, content = request(container.port, method, path, body, headers=headers)
        text = content.decode("utf-8", "replace")
        if got != status:
            fail(f"{method} {path}: status {got}, expected {status}: {text[:500]}")
        if substring and substring not in text:
            fail(f"{method} {path}: {substring!r} not in the response: {text[:500]}")
        print(f"image_test: ok {method} {path} -> {got} {text[:200]}", file=sys.stderr)


def run(args: argparse.Namespace, workdir: Path) -> None:
    """Starts the sidecar (if any) until ready, then the image; runs the checks; always stops both."""
    containers = []
    env = list(args.env)
    try:
        if args.sidecar_layout:
            sidecar = Container(
                "sidecar",
                Path(args.sidecar_layout).resolve(),
                port_env=args.sidecar_port_env,
                env=args.sidecar_env,
                mounts=args.sidecar_mount,
                workdir=workdir,
            )
            containers.append(sidecar)
            sidecar.start()
            sidecar.wait(args.sidecar_ready, args.startup_timeout, want_status=200)
            env.append(f"{args.sidecar_url_env}=http://127.0.0.1:{sidecar.port}")
        main_container = Container(
            "image", Path(args.layout).resolve(), port_env=args.port_env, env=env, mounts=args.mount, workdir=workdir
        )
        containers.append(main_container)
        main_container.start()
        main_container.wait(parse_check(args.check[0])[1], args.startup_timeout)
        run_checks(main_container, args.check)
    except BaseException:
        for container in containers:
            container.dump_log()
        raise
    finally:
        for container in reversed(containers):
            container.stop()


def main(argv: list[str] | None = None) -> int:
    """Checks the image's structure, then runs it and its HTTP checks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inner", nargs=2, metavar=("ROOTFS", "SPEC"), help=argparse.SUPPRESS)
    parser.add_argument("--layout")
    parser.add_argument("--port-env", default="PORT")
    parser.add_argument("--expect-user", default="65532:65532")
    parser.add_argument("--expect-label", action="append", default=[])
    parser.add_argument("--check", action="append", default=[])
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE added for this run only")
    parser.add_argument("--mount", action="append", default=[], help="IMAGE_PATH=HOST_PATH copied in (a volume)")
    parser.add_argument("--sidecar-layout", help="another image started first (e.g. the service this one calls)")
    parser.add_argument("--sidecar-port-env", default="PORT")
    parser.add_argument("--sidecar-env", action="append", default=[])
    parser.add_argument("--sidecar-mount", action="append", default=[])
    parser.add_argument("--sidecar-ready", default="/readyz", help="path that must answer 200 first")
    parser.add_argument("--sidecar-url-env", help="the image's variable that gets the sidecar's URL")
    parser.add_argument("--startup-timeout", type=float, default=90)
    args = parser.parse_args(argv)
    if args.inner:
        inner(*args.inner)
        return 1  # not reached: inner execs
    if os.geteuid() != 0:
        fail("must run as root (unshare --mount, chroot); run it through ./tools/bazel test")
    layout = Path(args.layout).resolve()
    digest, manifest, config = ocilib.load_layout(layout)
    print(f"image_test: {digest}", file=sys.stderr)
    check_structure(layout, config, manifest, args)
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        run(args, Path(tmp))
    print("image_test: PASS", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
