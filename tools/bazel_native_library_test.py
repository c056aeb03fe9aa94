"""The build root's Bazel can load its native library (libunix_jni.so), as its server does at start."""

import ctypes
import zipfile
from pathlib import Path

import pytest

# Where Debian's bazel-bootstrap installs the server; its JNI library is a resource inside.
SERVER_JAR = Path("/usr/share/bazel/A-server.jar")
LIBRARY_IN_JAR = "main/native/libunix_jni.so"


def test_the_servers_native_library_loads(tmp_path):
    # Without it the server logs "Failed to load JNI library" in java.log, falls back to plain
    # Java file-system calls and leaves the extracted copy behind in /tmp at every start (Debian's
    # package misses a dependency on libblake3-0: bazel/buildroot/packages.txt installs it).
    if not SERVER_JAR.is_file():
        pytest.skip(f"{SERVER_JAR} is missing: this Bazel is not Debian's (BAZEL_REAL)")
    library = tmp_path / "libunix_jni.so"
    with zipfile.ZipFile(SERVER_JAR) as jar:
        library.write_bytes(jar.read(LIBRARY_IN_JAR))
    # dlopen resolves the library's dependencies as the JVM's System.load does.
    ctypes.CDLL(str(library))
