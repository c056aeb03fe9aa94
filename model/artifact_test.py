"""Code tests of the artifact format: deterministic skops bytes, the allow-list and load errors."""

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor

from data.contract import FEATURE_NAMES, TARGET
from data.feature_engineering import MODEL_FEATURES, add_features
from model import artifact
from model.testing import synthetic_raw as raw_frame


def _xy() -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic MODEL_FEATURES and target."""
    frame = add_features(raw_frame(300, seed=1))
    return frame[list(MODEL_FEATURES)], frame[TARGET.name]


def fit_small(max_iter: int = 20) -> HistGradientBoostingRegressor:
    """A small HGB fitted on synthetic MODEL_FEATURES."""
    return HistGradientBoostingRegressor(max_iter=max_iter, random_state=0).fit(*_xy())


def write_dir(directory, estimator) -> bytes:
    """Write model.skops and a matching signature.json; returns the model bytes."""
    model_bytes = artifact.dump_estimator(estimator)
    (directory / artifact.MODEL_FILE).write_bytes(model_bytes)
    signature = artifact.build_signature(model_bytes, "d" * 64, (0.15, 5.0), {"rmse": 0.5, "mae": 0.3, "r2": 0.8})
    (directory / artifact.SIGNATURE_FILE).write_text(artifact.to_json(signature))
    return model_bytes


def test_separately_fitted_equal_estimators_serialise_to_identical_bytes():
    first = artifact.dump_estimator(fit_small())
    second = artifact.dump_estimator(fit_small())
    # Plain skops output differs (ids, uuids, timestamps); that is what canonicalisation fixes.
    assert skops.io.dumps(fit_small()) != skops.io.dumps(fit_small())
    assert first == second


def test_canonical_archive_has_fixed_timestamps_and_renumbered_members():
    with zipfile.ZipFile(io.BytesIO(artifact.dump_estimator(fit_small()))) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "schema.json"
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert [info.filename for info in infos[1:]] == sorted(info.filename for info in infos[1:])
    assert all(info.filename.split(".")[0].isdigit() for info in infos[1:])


def test_different_estimators_give_different_versions():
    assert artifact.version_of(artifact.dump_estimator(fit_small(20))) != artifact.version_of(
        artifact.dump_estimator(fit_small(5))
    )


def test_round_trip_predicts_like_the_original(tmp_path):
    estimator = fit_small()
    write_dir(tmp_path, estimator)
    loaded = artifact.load_model(tmp_path)
    raw = raw_frame(50, seed=7)
    expected = estimator.predict(add_features(raw)[list(MODEL_FEATURES)])
    np.testing.assert_array_equal(loaded.predict(raw), expected)
    assert loaded.version == artifact.version_of((tmp_path / artifact.MODEL_FILE).read_bytes())
    assert loaded.input_names == list(FEATURE_NAMES)


def test_predict_works_on_one_row_and_ignores_extra_columns(tmp_path):
    write_dir(tmp_path, fit_small())
    loaded = artifact.load_model(tmp_path)
    raw = raw_frame(20, seed=3)
    whole = loaded.predict(raw)
    single = loaded.predict(raw.iloc[[4]].assign(extra="ignored"))
    assert single.shape == (1,)
    assert single[0] == pytest.approx(whole[4])


def test_predict_names_missing_columns(tmp_path):
    write_dir(tmp_path, fit_small())
    loaded = artifact.load_model(tmp_path)
    with pytest.raises(ValueError, match="MedInc"):
        loaded.predict(raw_frame(5, seed=0).drop(columns=["MedInc"]))


def test_signature_follows_the_contract():
    model_bytes = artifact.dump_estimator(fit_small())
    signature = artifact.build_signature(model_bytes, "abc", (0.15, 5.0), {"rmse": 0.4, "mae": 0.3, "r2": 0.8})
    assert signature["model_name"] == "california-housing"
    assert signature["model_version"] == artifact.sha256_bytes(model_bytes)[:12]
    assert [item["name"] for item in signature["inputs"]] == list(FEATURE_NAMES)
    assert signature["inputs"][0] == {
        "name": "MedInc",
        "dtype": "float64",
        "minimum": 0.0,
        "maximum": 20.0,
        "required": True,
        "description": signature["inputs"][0]["description"],
    }
    assert signature["model_features"] == list(MODEL_FEATURES)
    assert signature["target"] == {"name": "MedHouseVal", "unit": "100k USD", "minimum": 0.15, "maximum": 5.0}
    assert signature["metrics"] == {"test": {"rmse": 0.4, "mae": 0.3, "r2": 0.8}}
    assert json.loads(artifact.to_json(signature)) == signature


class Shady(BaseEstimator, RegressorMixin):
    """An estimator type outside the allow-list: loading it could run this module's code."""

    def fit(self, features, target):
        self.mean_ = float(np.mean(target))
        return self

    def predict(self, features):
        return np.full(len(features), self.mean_)


def test_untrusted_types_are_refused(tmp_path):
    write_dir(tmp_path, Shady().fit(*_xy()))
    with pytest.raises(artifact.ModelLoadError, match=r"allow-list.*Shady"):
        artifact.load_model(tmp_path)


def test_missing_directory_and_files_raise(tmp_path):
    with pytest.raises(artifact.ModelLoadError, match="does not exist"):
        artifact.load_model(tmp_path / "nowhere")
    with pytest.raises(artifact.ModelLoadError, match=r"no signature\.json"):
        artifact.load_model(tmp_path)
    write_dir(tmp_path, fit_small())
    (tmp_path / artifact.MODEL_FILE).unlink()
    with pytest.raises(artifact.ModelLoadError, match=r"no model\.skops"):
        artifact.load_model(tmp_path)


def test_corrupt_model_file_raises(tmp_path):
    write_dir(tmp_path, fit_small())
    junk = b"this is not a zip archive"
    (tmp_path / artifact.MODEL_FILE).write_bytes(junk)
    signature = json.loads((tmp_path / artifact.SIGNATURE_FILE).read_text())
    signature["model_version"] = artifact.version_of(junk)
    (tmp_path / artifact.SIGNATURE_FILE).write_text(json.dumps(signature))
    with pytest.raises(artifact.ModelLoadError, match="not a readable skops archive"):
        artifact.load_model(tmp_path)


def test_model_file_not_matching_signature_raises(tmp_path):
    write_dir(tmp_path, fit_small())
    (tmp_path / artifact.MODEL_FILE).write_bytes(artifact.dump_estimator(Shady().fit(*_xy())))
    with pytest.raises(artifact.ModelLoadError, match="do not belong together"):
        artifact.load_model(tmp_path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("model_version"), "lacks the keys model_version"),
        (lambda s: s.update(inputs="MedInc"), "'inputs' must be a list"),
        (lambda s: s.update(model_features=["MedInc"]), "retrain the model"),
    ],
)
def test_bad_signature_raises(tmp_path, mutate, message):
    write_dir(tmp_path, fit_small())
    signature = json.loads((tmp_path / artifact.SIGNATURE_FILE).read_text())
    mutate(signature)
    (tmp_path / artifact.SIGNATURE_FILE).write_text(json.dumps(signature))
    with pytest.raises(artifact.ModelLoadError, match=message):
        artifact.load_model(tmp_path)


def test_signature_that_is_not_json_raises(tmp_path):
    write_dir(tmp_path, fit_small())
    (tmp_path / artifact.SIGNATURE_FILE).write_text("{not json")
    with pytest.raises(artifact.ModelLoadError, match="not valid JSON"):
        artifact.load_model(tmp_path)
