"""Runs the public api service under uvicorn: `bazel run //services/api:serve`."""

import argparse
import sys

import uvicorn

from services import logs
from services.api.app.core.config import get_settings
from services.api.app.main import create_app


def main(argv: list[str] | None = None) -> int:
    """Parse flags, then serve until SIGINT/SIGTERM (uvicorn drains in-flight requests first)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", help="address to bind (default: API_HOST or 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to bind (default: API_PORT or 8000)")
    parser.add_argument("--predict-url", help="predict service base URL (default: API_PREDICT_URL)")
    args = parser.parse_args(argv)

    settings = get_settings()
    updates = {key: value for key, value in vars(args).items() if value is not None}
    settings = settings.model_copy(update=updates)

    logs.configure("api", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        loop="uvloop",
        http="httptools",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
