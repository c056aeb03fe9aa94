"""Runs the predict service under uvicorn: `bazel run //services/predict:serve`."""

import argparse
import sys

import uvicorn

from model.artifact import bundled_model_dir
from services import logs
from services.predict.app.core.config import get_settings
from services.predict.app.main import create_app
from tools.user_paths import user_path


def main(argv: list[str] | None = None) -> int:
    """Parse flags, then serve until SIGINT/SIGTERM (uvicorn drains in-flight requests first)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", help="address to bind (default: PREDICT_HOST or 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to bind (default: PREDICT_PORT or 8001)")
    parser.add_argument("--model-dir", help="model directory (default: PREDICT_MODEL_DIR, else the bundled model)")
    args = parser.parse_args(argv)

    settings = get_settings()
    updates = {}
    if args.host:
        updates["host"] = args.host
    if args.port is not None:
        updates["port"] = args.port
    if args.model_dir:
        updates["model_dir"] = user_path(args.model_dir)  # the user's relative path, not the runfiles'
    elif settings.model_dir is None:
        updates["model_dir"] = bundled_model_dir()
    settings = settings.model_copy(update=updates)

    logs.configure("predict", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the JSON handler configured above
        access_log=False,  # the middleware writes one access line per request, with its id
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        loop="uvloop",
        http="httptools",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
