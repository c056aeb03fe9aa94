"""/docs of both services in a real headless Chromium with every outside host unreachable: the operations render."""

import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from services.launch import running_stack

API_KEY = "docs-browser-key-3a9c"
SERVICES = ("predict", "api")
# Flags for a headless run that neither phones home nor needs a sandbox (tests run as root).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # Every host but the service itself fails to resolve: a page that still needed a CDN stays blank.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    # Let Swagger UI fetch /openapi.json and render before the DOM or screenshot is taken.
    "--virtual-time-budget=15000",
    "--window-size=1280,1400",
]


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is not installed (bazel/buildroot/packages.txt lists it)"
    return path


def run_chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    model_dir = Path(os.environ["MODEL_SIGNATURE"]).resolve().parent
    workdir = tmp_path_factory.mktemp("docs")
    with running_stack(
        os.environ["PREDICT_SERVE"], os.environ["API_SERVE"], workdir=workdir, model_dir=model_dir, api_key=API_KEY
    ) as running:
        yield running


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("service", SERVICES)
def test_docs_render_the_operations_offline(stack, service):
    url = stack[f"{service}_url"] + "/docs"
    dom = run_chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # Swagger UI builds one "opblock" per operation, from /openapi.json, with the JS served locally.
    assert 'class="swagger-ui' in html, html[:2000]
    assert html.count("opblock-summary-path") >= 3, html[:2000]
    for path in ("/v1/predict", "/v1/model", "/readyz", "/healthz"):
        assert f'data-path="{path}"' in html, f"{path} not rendered"
    assert "Failed to load API definition" not in html

    outputs = Path(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", tempfile.mkdtemp()))
    screenshot = outputs / f"{service}-docs.png"
    shot = run_chromium(f"--screenshot={screenshot}", url)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png_size(screenshot) == (1280, 1400)
    # A blank page compresses to a few kB; the rendered operations do not.
    assert screenshot.stat().st_size > 30_000, screenshot.stat().st_size
    print(f"{service}: screenshot {screenshot} ({screenshot.stat().st_size} bytes)")
