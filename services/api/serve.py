"""Runs the public api service under uvicorn: `bazel run //services/api:serve`."""

import sys

from services import scaffold
from services.api.app.core.config import get_settings
from services.api.app.main import create_app


def main(argv: list[str] | None = None) -> int:
    """Parse flags, then serve until SIGINT/SIGTERM (uvicorn drains in-flight requests first)."""
    parser = scaffold.serve_parser(__doc__, "api", 8000)
    parser.add_argument("--predict-url", help="predict service base URL (default: API_PREDICT_URL)")
    args = parser.parse_args(argv)
    updates = {key: value for key, value in vars(args).items() if value is not None}
    return scaffold.serve("api", get_settings().model_copy(update=updates), create_app)


if __name__ == "__main__":
    sys.exit(main())
