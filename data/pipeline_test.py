"""Code tests of the build steps: featurize, split and the manifest."""

import json

import pandas as pd
import pytest

from data import featurize, pipeline, split
from data.feature_engineering import MODEL_FEATURES
from data.testdata import sample_frame
from data.validation import report_json, validate_frame, write_parquet
from tools.hashing import sha256_file


def test_featurize_gives_model_features_then_target():
    out = pipeline.featurize(sample_frame())
    assert list(out.columns) == [*MODEL_FEATURES, "MedHouseVal"]
    assert len(out) == 40


def test_featurize_needs_the_target():
    with pytest.raises(ValueError, match="MedHouseVal"):
        pipeline.featurize(sample_frame(target=False))


def test_split_is_80_20_disjoint_and_deterministic():
    frame = pipeline.featurize(sample_frame(rows=100))
    train, test = pipeline.split(frame)
    assert (len(train), len(test)) == (80, 20)
    again_train, again_test = pipeline.split(frame)
    pd.testing.assert_frame_equal(train, again_train)
    pd.testing.assert_frame_equal(test, again_test)
    both = pd.concat([train, test]).sort_values("MedInc").reset_index(drop=True)
    pd.testing.assert_frame_equal(both, frame.sort_values("MedInc").reset_index(drop=True))


def test_data_hash_depends_on_both_tables():
    a, b = "a" * 64, "b" * 64
    assert pipeline.data_hash(a, b) != pipeline.data_hash(b, a)
    assert pipeline.data_hash(a, b) == pipeline.data_hash(a, b)


def _prepare(tmp_path, frame):
    result = validate_frame(frame, require_target=True)
    (tmp_path / "report.json").write_text(report_json({**result.report, "source": {"sha256": "f" * 64}}))
    write_parquet(pipeline.featurize(result.valid), tmp_path / "features.parquet")


def test_write_split_writes_the_three_files_and_a_consistent_manifest(tmp_path):
    _prepare(tmp_path, sample_frame(rows=50))
    manifest = pipeline.write_split(tmp_path / "features.parquet", tmp_path / "report.json", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json", "test.parquet", "train.parquet"]
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest
    assert manifest["raw"] == {"sha256": "f" * 64, "rows": 50}
    assert manifest["train"] == {"sha256": sha256_file(tmp_path / "out" / "train.parquet"), "rows": 40}
    assert manifest["test"]["rows"] == 10
    assert manifest["split"] == {"test_fraction": 0.2, "seed": 42}
    assert manifest["data_hash"] == pipeline.data_hash(manifest["train"]["sha256"], manifest["test"]["sha256"])


def test_write_split_is_byte_deterministic(tmp_path):
    _prepare(tmp_path, sample_frame(rows=50))
    first = pipeline.write_split(tmp_path / "features.parquet", tmp_path / "report.json", tmp_path / "one")
    second = pipeline.write_split(tmp_path / "features.parquet", tmp_path / "report.json", tmp_path / "two")
    assert first == second
    assert (tmp_path / "one" / "manifest.json").read_bytes() == (tmp_path / "two" / "manifest.json").read_bytes()


def test_split_refuses_a_failed_validation_report(tmp_path, capsys):
    frame = sample_frame(rows=50)
    _prepare(tmp_path, frame)
    report = json.loads((tmp_path / "report.json").read_text())
    report["status"] = "failed"
    (tmp_path / "report.json").write_text(json.dumps(report))
    status = split.main([str(tmp_path / "features.parquet"), str(tmp_path / "report.json"), str(tmp_path / "out")])
    assert status == 1
    assert "status 'failed'" in capsys.readouterr().err


def test_featurize_cli(tmp_path):
    write_parquet(sample_frame(), tmp_path / "valid.parquet")
    assert featurize.main([str(tmp_path / "valid.parquet"), str(tmp_path / "features.parquet")]) == 0
    assert list(pd.read_parquet(tmp_path / "features.parquet").columns) == [*MODEL_FEATURES, "MedHouseVal"]
