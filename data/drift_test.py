"""Code tests of drift detection: PSI arithmetic, stable and shifted batches, the CLI."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from data import detect_drift, drift
from data.testdata import sample_frame


def test_psi_of_identical_distributions_is_zero_and_grows_with_shift():
    base = [0.25, 0.25, 0.25, 0.25]
    assert drift.psi(base, base) == 0.0
    expected = 0.1 * math.log(0.35 / 0.25) + (-0.1) * math.log(0.15 / 0.25)
    assert drift.psi(base, [0.35, 0.15, 0.25, 0.25]) == pytest.approx(expected)
    assert drift.psi(base, [0.7, 0.1, 0.1, 0.1]) > drift.psi(base, [0.35, 0.15, 0.25, 0.25])
    assert math.isfinite(drift.psi(base, [1.0, 0.0, 0.0, 0.0]))  # an empty bin does not give inf


def test_reference_has_deciles_and_a_sample():
    reference = drift.reference_statistics(sample_frame(rows=5000))
    medinc = reference["columns"]["MedInc"]
    assert len(medinc["edges"]) == 9
    assert sum(medinc["proportions"]) == pytest.approx(1.0)
    assert all(p == pytest.approx(0.1, abs=0.01) for p in medinc["proportions"])
    assert len(medinc["sample"]) == drift.SAMPLE_SIZE
    assert medinc["sample"] == sorted(medinc["sample"])
    json.dumps(reference)  # serialisable as is


def test_a_fresh_sample_of_the_same_distribution_does_not_drift():
    reference = drift.reference_statistics(sample_frame(rows=5000, seed=1))
    report = drift.check_drift(reference, sample_frame(rows=2000, seed=2))
    assert report["drifted"] is False, drift.summary(report)
    assert all(entry["psi"] < 0.05 for entry in report["features"].values())


def test_a_shifted_feature_is_reported_and_only_that_one():
    reference = drift.reference_statistics(sample_frame(rows=5000, seed=1))
    batch = sample_frame(rows=2000, seed=2)
    batch["MedInc"] = batch["MedInc"] * 1.5
    report = drift.check_drift(reference, batch)
    assert report["drifted_features"] == ["MedInc"]
    assert report["features"]["MedInc"]["psi"] > drift.PSI_THRESHOLD
    assert report["features"]["MedInc"]["ks_statistic"] > drift.KS_THRESHOLD
    assert "DRIFT in MedInc" in drift.summary(report)


def test_discrete_capped_columns_get_deduplicated_edges():
    frame = sample_frame(rows=1000)
    frame["HouseAge"] = np.where(np.arange(1000) < 600, 52.0, frame["HouseAge"])  # the cap dominates
    edges = drift.reference_statistics(frame)["columns"]["HouseAge"]["edges"]
    assert edges == sorted(set(edges))
    report = drift.check_drift(drift.reference_statistics(frame), frame)
    assert report["features"]["HouseAge"]["psi"] == pytest.approx(0.0, abs=1e-12)


def test_a_feature_with_fewer_than_50_values_is_not_counted_as_not_drifted():
    reference = drift.reference_statistics(sample_frame(rows=1000))
    report = drift.check_drift(reference, sample_frame(rows=drift.MIN_ROWS - 1, seed=3).assign(MedInc=15.0))
    assert report["status"] == drift.NOT_ENOUGH_DATA
    assert report["features"]["MedInc"]["judged"] is False
    assert report["features"]["MedInc"]["drifted"] is None
    assert report["not_judged"] == list(report["features"])
    assert drift.summary(report).startswith("NO VERDICT")
    assert "no drift" not in drift.summary(report)


def test_a_drifted_feature_is_a_verdict_even_when_another_is_not_judged():
    reference = drift.reference_statistics(sample_frame(rows=3000, seed=1))
    batch = sample_frame(rows=1000, seed=2).assign(MedInc=lambda f: f["MedInc"] * 1.5)
    batch.loc[: 1000 - drift.MIN_ROWS, "Population"] = np.nan  # 49 values left
    report = drift.check_drift(reference, batch)
    assert (report["status"], report["drifted_features"], report["not_judged"]) == ("drift", ["MedInc"], ["Population"])


def test_errors_name_the_problem():
    reference = drift.reference_statistics(sample_frame(rows=200))
    with pytest.raises(ValueError, match="AveOccup"):
        drift.check_drift(reference, sample_frame(rows=200).drop(columns=["AveOccup"]))
    with pytest.raises(ValueError, match="not a drift reference"):
        drift.check_drift({"columns": {}}, sample_frame())
    with pytest.raises(ValueError, match="no contract feature column"):
        drift.reference_statistics(pd.DataFrame({"x": [1.0]}))


def test_cli_reference_then_check(tmp_path, capsys):
    sample_frame(rows=3000, seed=1).to_parquet(tmp_path / "train.parquet", index=False)
    stable = sample_frame(rows=1000, seed=2)
    stable.to_csv(tmp_path / "stable.csv", index=False)
    stable.assign(Latitude=stable["Latitude"].clip(upper=36.0)).to_csv(tmp_path / "south.csv", index=False)
    stats_path = tmp_path / "stats.json"
    assert detect_drift.main(["reference", str(tmp_path / "train.parquet"), "--output", str(stats_path)]) == 0
    capsys.readouterr()

    assert detect_drift.main(["--reference", str(stats_path), "check", str(tmp_path / "stable.csv")]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["drifted"] is False
    assert "no drift" in out.err

    assert detect_drift.main(["--reference", str(stats_path), "check", str(tmp_path / "south.csv")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["drifted_features"] == ["Latitude"]
    assert report["validation"]["rows_in"] == 1000


def test_cli_leaves_invalid_rows_out_and_counts_them(tmp_path, capsys):
    stats_path = tmp_path / "stats.json"
    stats_path.write_text(json.dumps(drift.reference_statistics(sample_frame(rows=3000, seed=1))))
    batch = sample_frame(rows=500, seed=2)
    batch.loc[:9, "Latitude"] = 80.0
    batch.to_csv(tmp_path / "batch.csv", index=False)
    assert detect_drift.main(["--reference", str(stats_path), "check", str(tmp_path / "batch.csv")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["validation"] == {"rows_in": 500, "rows_valid": 490, "rows_quarantined": 10}


def test_cli_unreadable_batch_exits_2(tmp_path, capsys):
    stats_path = tmp_path / "stats.json"
    stats_path.write_text(json.dumps(drift.reference_statistics(sample_frame(rows=300))))
    (tmp_path / "batch.csv").write_text("a,b\n1,2\n")
    assert detect_drift.main(["--reference", str(stats_path), "check", str(tmp_path / "batch.csv")]) == 2
    assert "missing column(s)" in capsys.readouterr().err


def _stats_file(tmp_path) -> str:
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(drift.reference_statistics(sample_frame(rows=3000, seed=1))))
    return str(path)


def test_an_empty_batch_does_not_exit_0_with_no_drift(tmp_path, capsys):
    sample_frame(rows=5).iloc[:0].to_csv(tmp_path / "empty.csv", index=False)  # the header only
    status = detect_drift.main(["--reference", _stats_file(tmp_path), "check", str(tmp_path / "empty.csv")])
    out = capsys.readouterr()
    assert status == detect_drift.EXIT_NO_VERDICT
    assert json.loads(out.out)["status"] == "not_enough_data"
    assert "no drift" not in out.err
    assert "NO VERDICT" in out.err


def test_an_entirely_invalid_batch_does_not_exit_0_with_no_drift(tmp_path, capsys):
    batch = sample_frame(rows=500, seed=2).assign(Latitude=80.0)  # every row out of the contract's range
    batch.to_csv(tmp_path / "batch.csv", index=False)
    status = detect_drift.main(["--reference", _stats_file(tmp_path), "check", str(tmp_path / "batch.csv")])
    out = capsys.readouterr()
    assert status == detect_drift.EXIT_NO_VERDICT
    report = json.loads(out.out)
    assert report["validation"] == {"rows_in": 500, "rows_valid": 0, "rows_quarantined": 500}
    assert report["drifted"] is False
    assert report["status"] == "not_enough_data"
    assert "no drift" not in out.err
