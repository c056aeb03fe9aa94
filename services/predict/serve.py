"""Runs the predict service under uvicorn: `bazel run //services/predict:serve`."""

import sys

from model.artifact import bundled_model_dir
from services import scaffold
from services.predict.app.core.config import get_settings
from services.predict.app.main import create_app
from tools.user_paths import user_path


def main(argv: list[str] | None = None) -> int:
    """Parse flags, then serve until SIGINT/SIGTERM (uvicorn drains in-flight requests first)."""
    parser = scaffold.serve_parser(__doc__, "predict", 8001)
    parser.add_argument("--model-dir", help="model directory (default: PREDICT_MODEL_DIR, else the bundled model)")
    args = parser.parse_args(argv)

    settings = get_settings()
    updates = {key: value for key, value in (("host", args.host), ("port", args.port)) if value is not None}
    if args.model_dir:
        updates["model_dir"] = user_path(args.model_dir)  # the user's relative path, not the runfiles'
    elif settings.model_dir is None:
        updates["model_dir"] = bundled_model_dir()
    return scaffold.serve("predict", settings.model_copy(update=updates), create_app)


if __name__ == "__main__":
    sys.exit(main())
