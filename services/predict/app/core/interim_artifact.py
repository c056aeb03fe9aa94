"""INTERIM stand-in for //model:artifact (load_model, ModelLoadError) until the model branch lands."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io

from data.feature_engineering import MODEL_FEATURES, add_features

_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.")


class ModelLoadError(RuntimeError):
    """The model directory is missing, corrupt or inconsistent."""


@dataclass
class LoadedModel:
    """A loaded estimator with its signature."""

    estimator: Any
    signature: dict[str, Any]
    version: str

    def predict(self, raw_frame: pd.DataFrame) -> np.ndarray:
        """Predict from the raw input columns."""
        features = add_features(raw_frame)[list(MODEL_FEATURES)]
        return np.asarray(self.estimator.predict(features))


def load_model(directory: Path | str) -> LoadedModel:
    """Load model.skops and signature.json from ``directory``."""
    directory = Path(directory)
    try:
        signature = json.loads((directory / "signature.json").read_text())
        blob = (directory / "model.skops").read_bytes()
    except (OSError, ValueError) as error:
        raise ModelLoadError(str(error)) from error
    try:
        untrusted = skops.io.get_untrusted_types(data=blob)
        refused = [name for name in untrusted if not name.startswith(_TRUSTED_PREFIXES)]
        if refused:
            raise ModelLoadError(f"untrusted types in model.skops: {refused}")
        estimator = skops.io.loads(blob, trusted=untrusted)
    except ModelLoadError:
        raise
    except Exception as error:
        raise ModelLoadError(f"corrupt model.skops: {error}") from error
    version = hashlib.sha256(blob).hexdigest()[:12]
    if signature.get("model_version") != version:
        raise ModelLoadError("signature model_version does not match model.skops")
    return LoadedModel(estimator, signature, version)
