"""The MLflow registry: log a training run, register its artifact once, promote the better model."""

import contextlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from model import artifact
from tools.hashing import sha256_file

CHAMPION = "champion"
EXPERIMENT = "california-housing"
# Tags on every model version; the sha256 tag is how a re-registration is recognised.
SHA_TAG = "artifact_sha256"
RMSE_TAG = "test_rmse"


def default_store(workspace: str | os.PathLike | None) -> tuple[str, str]:
    """The embedded store: ``(tracking URI, artifact root)`` under ``<workspace>/.mlflow``.

    Without a workspace (not under `bazel run`) the store lives in ``~/.cache/mlops-monorepo/mlflow``.
    """
    folder = Path(workspace) / ".mlflow" if workspace else Path.home() / ".cache" / "mlops-monorepo" / "mlflow"
    folder = folder.resolve()
    return f"sqlite:///{folder / 'mlflow.db'}", (folder / "artifacts").as_uri()


def git_revision(workspace: str | os.PathLike | None) -> str:
    """The workspace's git commit, with ``-dirty`` when it has uncommitted changes; ``unknown`` without git."""
    if not workspace:
        return "unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(workspace), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(workspace), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except OSError, subprocess.SubprocessError:
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def _flatten(prefix: str, value: Any) -> dict[str, str]:
    """Nested params as MLflow's flat ``a.b.c -> str`` mapping."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return out
    return {prefix: json.dumps(value) if isinstance(value, list) else str(value)}


def _find_version(client: MlflowClient, name: str, sha256: str):
    """The existing version of ``name`` whose artifact has ``sha256``, or None."""
    for version in client.search_model_versions(f"name = '{name}'"):
        if version.tags.get(SHA_TAG) == sha256:
            return version
    return None


def _champion(client: MlflowClient, name: str):
    """The version the champion alias points at, or None."""
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def _ensure_registered_model(client: MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="California housing price model (block-group medians).")


def _orphan_run(client: MlflowClient, experiment_id: str, sha256: str) -> str | None:
    """A finished run of this artifact that no model version points at (an interrupted registration), or None.

    Only called when no version has ``sha256``, so any finished run with that tag is such an orphan.
    """
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{SHA_TAG} = '{sha256}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def log_run(
    client: MlflowClient,
    experiment_id: str,
    *,
    loaded: artifact.LoadedModel,
    directory: Path,
    sha256: str,
    revision: str,
) -> str:
    """Log the training run of the artifact (params, metrics, the files); returns its id.

    The run is marked FINISHED only once everything is logged, so a finished run is a complete one.

    Args:
        client: the MLflow client of the store.
        experiment_id: the experiment to log into (``experiment_id_for``).
        loaded: the loaded artifact.
        directory: the artifact directory (its files are logged under ``model/``).
        sha256: the sha256 of its model file, tagged on the run.
        revision: the git revision the model was built from.
    """
    metrics = json.loads((directory / artifact.METRICS_FILE).read_text(encoding="utf-8"))
    run = client.create_run(
        experiment_id,
        run_name=f"train-{loaded.version}",
        tags={
            "mlflow.source.git.commit": revision,
            "git_revision": revision,
            "data_hash": loaded.signature["data_hash"],
            "model_version": loaded.version,
            SHA_TAG: sha256,
        },
    )
    run_id = run.info.run_id
    try:
        for key, value in sorted(_flatten("", {"params": metrics["params"], "config": metrics["config"]}).items()):
            client.log_param(run_id, key, value)
        for split in ("test", "train"):
            for metric, value in metrics[split].items():
                client.log_metric(run_id, f"{split}_{metric}", float(value))
        client.log_metric(run_id, "validation_rmse", float(metrics["validation"]["rmse"]))
        client.log_artifacts(run_id, str(directory), artifact_path="model")
    except BaseException:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    return run_id


def experiment_id_for(client: MlflowClient, artifact_root: str | None) -> str:
    """The id of the model's experiment, created (keeping artifacts under ``artifact_root``) if missing."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        return experiment.experiment_id
    location = f"{artifact_root}/{EXPERIMENT}" if artifact_root else None
    return client.create_experiment(EXPERIMENT, artifact_location=location)


def register(
    artifact_dir: str | os.PathLike,
    tracking_uri: str,
    *,
    artifact_root: str | None = None,
    revision: str = "unknown",
) -> dict[str, Any]:
    """Log a run for the artifact, register it as a model version, and promote it if it is better.

    The artifact is checked by loading it first. Registering an artifact whose sha256 is
    already a version changes nothing. The ``champion`` alias moves to the new version only
    when its test RMSE is strictly lower than the current champion's.

    The run has to exist before the version (the version's source is the run's artifacts).
    When creating the version fails, the new run is deleted; if that is impossible too (or
    the process died in between), the next registration of the same artifact adopts the
    finished run instead of logging another.

    Args:
        artifact_dir: the model directory (model.skops, signature.json, metrics.json, model_card.md).
        tracking_uri: the MLflow tracking and registry URI (``sqlite:///...`` or a server).
        artifact_root: where new experiments keep artifacts (needed for a local store).
        revision: the git revision the model was built from.

    Returns:
        A report: model name, version, whether it was created, the champion and a message.

    Raises:
        ModelLoadError: when the artifact is not loadable.
        MlflowException: when the store fails; registering again is safe.
    """
    loaded = artifact.load_model(artifact_dir)
    directory = Path(artifact_dir)
    sha256 = sha256_file(directory / artifact.MODEL_FILE)
    name = loaded.signature["model_name"]
    rmse = float(loaded.signature["metrics"]["test"]["rmse"])
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    _ensure_registered_model(client, name)

    existing = _find_version(client, name, sha256)
    if existing is not None:
        champion = _champion(client, name)
        return {
            "model_name": name,
            "version": str(existing.version),
            "created": False,
            "promoted": False,
            "champion": str(champion.version) if champion else None,
            "message": f"artifact {sha256[:12]} is already registered as version {existing.version}; nothing to do",
        }

    experiment_id = experiment_id_for(client, artifact_root)
    adopted_run = _orphan_run(client, experiment_id, sha256)
    run_id = adopted_run or log_run(
        client, experiment_id, loaded=loaded, directory=directory, sha256=sha256, revision=revision
    )
    try:
        version = client.create_model_version(
            name,
            source=f"{client.get_run(run_id).info.artifact_uri}/model",
            run_id=run_id,
            tags={
                SHA_TAG: sha256,
                RMSE_TAG: repr(rmse),
                "model_version": loaded.version,
                "data_hash": loaded.signature["data_hash"],
                "git_revision": revision,
            },
            description=f"test rmse {rmse:.4f}; artifact sha256 {sha256}",
        )
    except MlflowException:
        if not adopted_run:
            with contextlib.suppress(MlflowException):  # else the next registration adopts it
                client.delete_run(run_id)
        raise

    champion = _champion(client, name)
    champion_rmse = float(champion.tags[RMSE_TAG]) if champion and RMSE_TAG in champion.tags else None
    if champion is None or champion_rmse is None or rmse < champion_rmse:
        client.set_registered_model_alias(name, CHAMPION, version.version)
        before = (
            "no champion" if champion is None else f"champion was version {champion.version} (rmse {champion_rmse})"
        )
        message = f"version {version.version} (rmse {rmse:.4f}) is the new champion; {before}"
        promoted, champion_version = True, str(version.version)
    else:
        message = (
            f"version {version.version} (rmse {rmse:.4f}) does not beat champion version {champion.version} "
            f"(rmse {champion_rmse:.4f}); the champion stays"
        )
        promoted, champion_version = False, str(champion.version)
    return {
        "model_name": name,
        "version": str(version.version),
        "created": True,
        "promoted": promoted,
        "champion": champion_version,
        "run_id": run_id,
        "message": message + (f" (run {run_id} of an interrupted registration reused)" if adopted_run else ""),
    }
