"""CLI: log the built model's run and register it in the MLflow registry, promoting it if better.

    bazel run //model:register                       # the model built by //model:model
    bazel run //model:register -- path/to/model_dir  # any artifact directory
Default store: sqlite under <workspace>/.mlflow; MLFLOW_TRACKING_URI (or --tracking-uri) overrides.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from mlflow.exceptions import MlflowException

from model.artifact import ModelLoadError
from model.registry import default_store, git_revision, register
from tools.user_paths import user_path


def main(argv: list[str] | None = None) -> int:
    """Run the CLI: the registration report as JSON on stdout, progress on stderr."""
    parser = argparse.ArgumentParser(
        prog="register",
        description="Log a training run (params, metrics, data hash, git revision) and register the artifact "
        "as a new model version; move the 'champion' alias to it only if its test RMSE is lower.",
    )
    parser.add_argument("artifact_dir", nargs="?", help="model directory (default: the one //model:model built)")
    parser.add_argument("--bundled", help="the model.skops in this binary's runfiles (set in BUILD.bazel)")
    parser.add_argument(
        "--tracking-uri",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///<workspace>/.mlflow/mlflow.db)",
    )
    parser.add_argument("--git-revision", help="the revision to record (default: git rev-parse HEAD of the workspace)")
    args = parser.parse_args(argv)

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if args.artifact_dir:
        directory = user_path(args.artifact_dir)
    elif args.bundled:
        directory = Path(args.bundled).resolve().parent
    else:
        parser.error("give an artifact directory")
    artifact_root = None
    tracking_uri = args.tracking_uri
    if not tracking_uri:
        tracking_uri, artifact_root = default_store(workspace)
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    elif tracking_uri.startswith("sqlite:///"):
        artifact_root = (Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
    print(f"register: {directory} -> {tracking_uri}", file=sys.stderr)
    try:
        report = register(
            directory, tracking_uri, artifact_root=artifact_root, revision=args.git_revision or git_revision(workspace)
        )
    except ModelLoadError as error:
        print(f"register: {error}", file=sys.stderr)
        return 1
    except MlflowException as error:
        print(f"register: the MLflow store failed: {error}; registering again is safe", file=sys.stderr)
        return 1
    print(f"register: {report['message']}", file=sys.stderr)
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
