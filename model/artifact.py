"""The model artifact: a directory with model.skops, signature.json, metrics.json and model_card.md."""

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from data import contract
from data.feature_engineering import MODEL_FEATURES, add_features

# The predict service reads signatures through this module and serves the compiled model
# (model/compiled.py): pandas and skops are imported only where an estimator is handled.
if TYPE_CHECKING:
    import pandas as pd

MODEL_NAME = "california-housing"
MODEL_FILE = "model.skops"
SIGNATURE_FILE = "signature.json"
METRICS_FILE = "metrics.json"
CARD_FILE = "model_card.md"
TARGET_UNIT = "100k USD"

# Types skops does not trust by default that our estimators legitimately contain. Loading
# refuses a file holding any other non-default type (skops' default set is builtins, numpy,
# scipy and scikit-learn estimators). Each entry is a scikit-learn internal; nothing here can
# run code on load.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils._bunch.Bunch",
)

# Keys every signature.json must carry; load_model refuses a signature without them.
SIGNATURE_KEYS: tuple[str, ...] = (
    "model_name",
    "model_version",
    "data_hash",
    "inputs",
    "model_features",
    "target",
    "metrics",
)

# A fixed timestamp for every zip member (the earliest a zip can hold), so that the same
# estimator always serialises to the same bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class ModelLoadError(Exception):
    """The model directory is missing, corrupt, untrusted or inconsistent."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def version_of(model_bytes: bytes) -> str:
    """The model version: the first 12 hex characters of sha256(model.skops)."""
    return sha256_bytes(model_bytes)[:12]


def _canonical_skops(raw: bytes) -> bytes:
    """Rewrite a skops archive so that equal estimators give equal bytes.

    skops names objects by ``id()`` (memory addresses) and byte blobs by ``uuid4``, and zip
    members carry the wall-clock time. Here ids and member names are renumbered in the order
    they first appear in the schema (a deterministic walk of the estimator) and every member
    gets a fixed timestamp and mode. References stay consistent, so the file loads the same.
    """
    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        schema = json.loads(source.read("schema.json"))
        members = {name: source.read(name) for name in source.namelist() if name != "schema.json"}

    ids: dict[Any, int] = {}
    names: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "__id__" in node:
                node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
            file_name = node.get("file")
            if isinstance(file_name, str) and file_name in members:
                suffix = Path(file_name).suffix
                node["file"] = names.setdefault(file_name, f"{len(names) + 1:06d}{suffix}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    unreferenced = sorted(set(members) - set(names))
    if unreferenced:
        raise ValueError(f"skops archive has members the schema does not reference: {unreferenced}")

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        # Key order is kept: skops rebuilds dicts and attributes in the order it wrote them.
        entries = [("schema.json", json.dumps(schema, indent=2).encode())]
        entries += sorted((new, members[old]) for old, new in names.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the host
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def dump_estimator(estimator: Any) -> bytes:
    """Serialise ``estimator`` with skops into canonical, byte-deterministic archive bytes."""
    import skops.io  # noqa: PLC0415 - see the TYPE_CHECKING note above

    return _canonical_skops(skops.io.dumps(estimator))


def load_estimator(model_bytes: bytes) -> Any:
    """Load an estimator from skops bytes, trusting only skops' defaults and TRUSTED_TYPES.

    Raises:
        ModelLoadError: when the bytes are not a skops archive or hold an untrusted type.
    """
    import skops.io  # noqa: PLC0415 - see the TYPE_CHECKING note above

    try:
        untrusted = skops.io.get_untrusted_types(data=model_bytes)
    except Exception as error:  # skops raises zipfile, json and key errors on corrupt input
        raise ModelLoadError(f"{MODEL_FILE} is not a readable skops archive: {error}") from error
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelLoadError(f"{MODEL_FILE} holds types outside the allow-list, refusing to load: {', '.join(refused)}")
    try:
        estimator = skops.io.loads(model_bytes, trusted=list(untrusted))
    except Exception as error:
        raise ModelLoadError(f"{MODEL_FILE} could not be loaded: {error}") from error
    if not callable(getattr(estimator, "predict", None)):
        raise ModelLoadError(f"{MODEL_FILE} holds a {type(estimator).__name__}, which has no predict()")
    return estimator


def build_signature(
    model_bytes: bytes,
    data_hash: str,
    target_range: tuple[float, float],
    test_metrics: dict[str, float],
    compiled: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The signature.json content for a model trained on MODEL_FEATURES.

    Args:
        model_bytes: the canonical model.skops bytes (the version is derived from them).
        data_hash: the ``data_hash`` of the features manifest the model was trained on.
        target_range: smallest and largest target value seen in training.
        test_metrics: ``{"rmse", "mae", "r2"}`` on the held-out test set.
        compiled: what model/compiled.py needs to trust model.trees (``file``, ``sha256``, ``trees``,
            ``max_abs_difference`` from sklearn); left out when None.
    """
    signature = {
        "model_name": MODEL_NAME,
        "model_version": version_of(model_bytes),
        "data_hash": data_hash,
        "inputs": [
            {
                "name": col.name,
                "dtype": col.dtype,
                "minimum": col.minimum,
                "maximum": col.maximum,
                "required": not col.nullable,
                "description": col.description,
            }
            for col in contract.COLUMNS
        ],
        "model_features": list(MODEL_FEATURES),
        "target": {
            "name": contract.TARGET.name,
            "unit": TARGET_UNIT,
            "minimum": float(target_range[0]),
            "maximum": float(target_range[1]),
        },
        "metrics": {"test": {key: float(test_metrics[key]) for key in ("rmse", "mae", "r2")}},
    }
    if compiled is not None:
        signature["compiled"] = compiled
    return signature


def to_json(document: Any) -> str:
    """Stable JSON text for artifact files: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class LoadedModel:
    """A model loaded from an artifact directory.

    Attributes:
        estimator: the scikit-learn estimator; it predicts from a frame of ``model_features``.
        signature: the parsed signature.json.
        directory: where the artifact was loaded from.
    """

    estimator: Any
    signature: dict[str, Any]
    directory: Path

    @property
    def version(self) -> str:
        """The model version (first 12 hex characters of the model file's sha256)."""
        return str(self.signature["model_version"])

    @property
    def input_names(self) -> list[str]:
        """The raw input columns a caller must supply, in signature order."""
        return [item["name"] for item in self.signature["inputs"]]

    @property
    def model_features(self) -> list[str]:
        """The columns the estimator was trained on, in order."""
        return list(self.signature["model_features"])

    def predict(self, raw_frame: pd.DataFrame) -> np.ndarray:
        """Predict the target (in 100k USD) for rows of the raw input columns.

        Args:
            raw_frame: a frame holding at least the signature's input columns.

        Raises:
            ValueError: when an input column is missing or not numeric.
        """
        missing = [name for name in self.input_names if name not in raw_frame.columns]
        if missing:
            raise ValueError(f"missing input columns: {', '.join(missing)}")
        features = add_features(raw_frame[self.input_names])
        return np.asarray(self.estimator.predict(features[self.model_features]), dtype="float64")


# Where //model:model's files sit in the runfiles of a binary that has it as data.
BUNDLED_SIGNATURE = "_main/model/artifact/signature.json"


def bundled_model_dir() -> Path | None:
    """The //model:model directory in the runfiles of the running binary or test, if it has one."""
    # RUNFILES_DIR is set under `bazel test`; under `bazel run` the stub runs the program from
    # inside its runfiles tree, and this module lives in that same tree.
    here = Path(__file__).absolute()
    roots = [os.environ.get("RUNFILES_DIR"), *(p for p in here.parents if p.name.endswith(".runfiles"))]
    for root in filter(None, roots):
        candidate = Path(root) / BUNDLED_SIGNATURE
        if candidate.is_file():
            return candidate.resolve().parent
    return None


def read_signature(directory: str | os.PathLike) -> dict[str, Any]:
    """Read and check the signature.json of an artifact directory.

    Raises:
        ModelLoadError: when the file is missing, not JSON, or lacks required keys.
    """
    path = Path(directory) / SIGNATURE_FILE
    try:
        signature = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelLoadError(f"no {SIGNATURE_FILE} in {directory}") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(signature, dict):
        raise ModelLoadError(f"{path} must hold a JSON object")
    missing = [key for key in SIGNATURE_KEYS if key not in signature]
    if missing:
        raise ModelLoadError(f"{path} lacks the keys {', '.join(missing)}")
    inputs = signature["inputs"]
    if not isinstance(inputs, list) or not all(isinstance(item, dict) and "name" in item for item in inputs):
        raise ModelLoadError(f"{path}: 'inputs' must be a list of objects with a 'name'")
    if not isinstance(signature["model_features"], list) or not signature["model_features"]:
        raise ModelLoadError(f"{path}: 'model_features' must be a non-empty list")
    return signature


def load_model(directory: str | os.PathLike) -> LoadedModel:
    """Load the model artifact in ``directory`` and check that its parts agree.

    Checks: both files exist; the signature is complete; the model file's hash matches the
    signature's version; the file holds only allow-listed types; the signature's features are
    the ones this code's feature engineering produces.

    Raises:
        ModelLoadError: on any failed check, with the reason.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelLoadError(f"model directory {directory} does not exist")
    signature = read_signature(directory)
    model_path = directory / MODEL_FILE
    try:
        model_bytes = model_path.read_bytes()
    except FileNotFoundError as error:
        raise ModelLoadError(f"no {MODEL_FILE} in {directory}") from error
    except OSError as error:
        raise ModelLoadError(f"cannot read {model_path}: {error}") from error
    if version_of(model_bytes) != signature["model_version"]:
        raise ModelLoadError(
            f"{model_path} has version {version_of(model_bytes)} but {SIGNATURE_FILE} says "
            f"{signature['model_version']}: the files do not belong together"
        )
    if list(signature["model_features"]) != list(MODEL_FEATURES):
        raise ModelLoadError(
            f"{SIGNATURE_FILE} lists features {signature['model_features']} but this code's feature engineering "
            f"produces {list(MODEL_FEATURES)}: retrain the model"
        )
    estimator = load_estimator(model_bytes)
    return LoadedModel(estimator=estimator, signature=signature, directory=directory)
