"""The base-vs-head comparison: verdicts, the markdown table, plots copied and linked, drift when the data changed."""

import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.drift import reference_statistics
from model import plots
from model.report import segment_errors, segment_names
from model.report_compare import compare, markdown_table, table_rows, verdict
from model.report_main import DRIFT_REFERENCE_FILE, PLOTS, REPORT_FILE
from model.testing import synthetic_raw


def _report(rmse: float, latency: float = 1.0, data_hash: str = "d1", version: str = "v1") -> dict:
    return {
        "format": "model-report/1",
        "model_version": version,
        "data_hash": data_hash,
        "rows": 100,
        "metrics": {"rmse": rmse, "mae": rmse * 0.7, "r2": 1.0 - rmse},
        "segments": [{"segment": "MedInc < 2.5", "rows": 40, "rmse": rmse + 0.1, "mae": rmse}],
        "size_bytes": {"model.skops": 1000, "model.trees": 500},
        "latency_ms": {"compiled": latency, "sklearn": latency * 10, "runs": 200},
        "feature_importance": {"MedInc": 0.5, "HouseAge": 0.1},
    }


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_verdicts_follow_the_metric_direction():
    assert verdict(0.45, 0.50, "lower", 1e-6, False) == "worse"
    assert verdict(0.50, 0.45, "lower", 1e-6, False) == "better"
    assert verdict(0.80, 0.70, "higher", 1e-6, False) == "worse"
    assert verdict(0.45, 0.45 + 1e-9, "lower", 1e-6, False) == "same"
    assert verdict(1.0, 1.2, "lower", 0.25, True) == "same"  # latency within 25 %
    assert verdict(1.0, 1.3, "lower", 0.25, True) == "worse"
    assert verdict(None, 0.5, "lower", 1e-6, False) == ""


def test_the_table_marks_a_worse_rmse_and_shows_the_delta():
    lines = markdown_table(table_rows(_report(0.45), _report(0.50)))
    rmse = next(line for line in lines if line.startswith("| RMSE |"))
    assert "0.4500" in rmse
    assert "0.5000" in rmse
    assert "+0.0500 (+11.1%)" in rmse
    assert rmse.endswith("**worse** |")
    r2 = next(line for line in lines if line.startswith("| R² |"))
    assert r2.endswith("**worse** |")
    segment = next(line for line in lines if "MedInc < 2.5" in line)
    assert "**worse**" in segment


def test_a_better_model_is_not_marked_worse():
    md = "\n".join(markdown_table(table_rows(_report(0.50), _report(0.45))))
    assert "**worse**" not in md
    assert "better" in md


def test_head_only_has_no_base_column_values():
    lines = markdown_table(table_rows(None, _report(0.45)))
    rmse = next(line for line in lines if line.startswith("| RMSE |"))
    assert rmse.startswith("| RMSE | - | 0.4500 | - |")


def _report_dir(root: Path, report: dict, train: pd.DataFrame) -> Path:
    root.mkdir(parents=True)
    (root / REPORT_FILE).write_text(json.dumps(report))
    (root / DRIFT_REFERENCE_FILE).write_text(json.dumps(reference_statistics(train)))
    rng = np.random.default_rng(0)
    actual = rng.uniform(0.5, 5.0, 50)
    plots.predicted_vs_actual(actual, actual + rng.normal(0, 0.1, 50), "t", root / PLOTS["predicted_vs_actual"])
    return root


def test_compare_copies_and_links_the_plots_and_draws_drift_when_the_data_changed(tmp_path):
    base_train = synthetic_raw(2000, seed=1)
    head_train = synthetic_raw(2000, seed=2)
    head_train["MedInc"] = head_train["MedInc"] * 1.5  # a shifted feature must be flagged
    head_parquet = tmp_path / "train.parquet"
    head_train.to_parquet(head_parquet)
    base = _report_dir(tmp_path / "base", _report(0.45, data_hash="old"), base_train)
    head = _report_dir(tmp_path / "head", _report(0.50, data_hash="new", version="v2"), head_train)
    out = tmp_path / "out"

    md = compare(base, head, head_parquet, out, link_prefix="model-report/")

    assert "(model-report/head/predicted_vs_actual.png)" in md
    assert "(model-report/base/predicted_vs_actual.png)" in md
    assert (out / "head" / "predicted_vs_actual.png").is_file()
    assert "drift in `MedInc`" in md
    assert "(model-report/drift.png)" in md
    assert _png_size(out / "drift.png") == (640, 480)
    assert (out / "model_report.md").read_text() == md


def test_no_drift_section_when_the_data_is_the_same(tmp_path):
    train = synthetic_raw(500, seed=1)
    parquet = tmp_path / "train.parquet"
    train.to_parquet(parquet)
    base = _report_dir(tmp_path / "base", _report(0.45), train)
    head = _report_dir(tmp_path / "head", _report(0.45), train)
    md = compare(base, head, parquet, tmp_path / "out")
    assert "drift" not in md.lower()
    assert not (tmp_path / "out" / "drift.png").exists()


def test_a_missing_report_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the model report"):
        compare(None, tmp_path, None, tmp_path / "out")


def test_segment_errors_match_a_direct_computation():
    frame = pd.DataFrame({"MedInc": [1.0, 2.0, 2.5, 5.0, 7.0, 8.0], "MedHouseVal": [1.0, 1.0, 2.0, 3.0, 5.0, 4.0]})
    predictions = np.array([1.5, 0.5, 2.0, 3.3, 4.0, 4.0])
    rows = segment_errors(frame, predictions, edges=(2.5, 4.5, 6.5))
    assert [row["segment"] for row in rows] == segment_names((2.5, 4.5, 6.5))
    assert [row["rows"] for row in rows] == [2, 1, 1, 2]  # 2.5 sits on an edge: the upper segment
    assert rows[0]["rmse"] == pytest.approx(0.5)
    assert rows[0]["mae"] == pytest.approx(0.5)
    assert rows[1]["rmse"] == pytest.approx(0.0)
    assert rows[2]["mae"] == pytest.approx(0.3)
    assert rows[3]["rmse"] == pytest.approx(np.sqrt(0.5))


def test_an_empty_segment_has_no_errors():
    frame = pd.DataFrame({"MedInc": [1.0], "MedHouseVal": [1.0]})
    rows = segment_errors(frame, np.array([1.0]))
    assert rows[-1] == {"segment": "MedInc >= 6.5", "rows": 0, "rmse": None, "mae": None}


def test_plots_are_deterministic_pngs_of_the_expected_size(tmp_path):
    rng = np.random.default_rng(3)
    actual = rng.uniform(0.5, 5.0, 300)
    predicted = actual + rng.normal(0.0, 0.3, 300)
    first = plots.residuals(actual, predicted, "r", tmp_path / "a.png")
    second = plots.residuals(actual, predicted, "r", tmp_path / "b.png")
    assert _png_size(first) == (640, 480)
    assert first.read_bytes() == second.read_bytes()
    assert b"Software" not in first.read_bytes()
    importance = plots.feature_importance({"MedInc": 0.4, "HouseAge": 0.05}, "i", tmp_path / "i.png")
    assert _png_size(importance) == (640, 480)
