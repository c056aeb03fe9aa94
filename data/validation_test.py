"""Code and bad-input tests of validation: fatal errors name the problem, bad rows go to quarantine."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data import validate, validation
from data.contract import FEATURE_NAMES, TARGET
from data.testdata import sample_frame
from data.validation import DataFileError, validate_file, validate_frame
from tools.hashing import sha256_file


def _counts_add_up(result: validation.ValidationResult) -> None:
    counts = result.report["counts"]
    assert counts["rows_in"] == counts["rows_valid"] + counts["rows_quarantined"]
    assert counts["rows_valid"] == len(result.valid)
    assert counts["rows_quarantined"] == len(result.quarantine)


def _reasons(result: validation.ValidationResult) -> dict[int, str]:
    return dict(zip(result.quarantine["row"], result.quarantine["reasons"], strict=True))


# --- Good input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_valid_file_passes_with_nothing_quarantined(tmp_path, fmt):
    path = tmp_path / f"batch.{fmt}"
    frame = sample_frame()
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    result = validate_file(path, require_target=True)
    assert result.passed
    assert result.report["counts"] == {"rows_in": 40, "rows_valid": 40, "rows_quarantined": 0}
    assert result.report["source"]["format"] == fmt
    assert list(result.valid.columns) == [*FEATURE_NAMES, TARGET.name]
    assert (result.valid.dtypes == np.float64).all()
    np.testing.assert_allclose(result.valid.to_numpy(), frame.to_numpy())


def test_a_batch_without_target_is_checked_on_features_only():
    result = validate_frame(sample_frame(target=False))
    assert result.passed
    assert TARGET.name not in result.valid.columns


def test_extra_columns_are_ignored_and_reported():
    frame = sample_frame().assign(note="x")
    result = validate_frame(frame)
    assert result.passed
    assert result.report["ignored_columns"] == ["note"]
    assert "note" not in result.valid.columns


# --- Unreadable files and wrong shapes: fatal, with a message naming the problem -------------------


def test_truncated_parquet_is_unreadable(tmp_path):
    path = tmp_path / "batch.parquet"
    sample_frame().to_parquet(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="not a readable Parquet file"):
        validate_file(path)


def test_csv_bytes_under_a_parquet_name_are_unreadable(tmp_path):
    path = tmp_path / "batch.parquet"
    sample_frame().to_csv(path, index=False)
    with pytest.raises(DataFileError, match="Parquet"):
        validate_file(path)


def test_unsupported_format_missing_file_and_empty_csv(tmp_path):
    (tmp_path / "batch.json").write_text("{}")
    with pytest.raises(DataFileError, match="unsupported format"):
        validate_file(tmp_path / "batch.json")
    with pytest.raises(DataFileError, match="no such file"):
        validate_file(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="empty CSV"):
        validate_file(tmp_path / "empty.csv")


def test_csv_with_a_ragged_line_is_unreadable_and_names_the_line(tmp_path):
    path = tmp_path / "batch.csv"
    sample_frame(rows=5).to_csv(path, index=False)
    with open(path, "a") as handle:
        handle.write("1,2,3,4,5,6,7,8,9,10,11\n")
    with pytest.raises(DataFileError, match="line 7"):
        validate_file(path)


def test_wrong_column_names_are_named_with_a_suggestion(tmp_path):
    path = tmp_path / "batch.csv"
    sample_frame().rename(columns={"MedInc": "median_income", "AveOccup": "AveOcup"}).to_csv(path, index=False)
    with pytest.raises(DataFileError) as error:
        validate_file(path)
    message = str(error.value)
    assert "missing column(s) MedInc, AveOccup" in message
    assert "'AveOcup'" in message  # the near miss is suggested


def test_missing_target_is_fatal_only_when_required():
    frame = sample_frame(target=False)
    assert validate_frame(frame).passed
    with pytest.raises(DataFileError, match="MedHouseVal"):
        validate_frame(frame, require_target=True)


def test_a_text_column_has_the_wrong_type(tmp_path):
    path = tmp_path / "batch.csv"
    frame = sample_frame(rows=6).astype({"HouseAge": object})
    frame["HouseAge"] = ["old", "new", "old", "new", "old", 3.0]
    frame.to_csv(path, index=False)
    with pytest.raises(DataFileError, match=r"column 'HouseAge' has the wrong type: 5 of 6 values are not numbers"):
        validate_file(path)


def test_a_boolean_parquet_column_has_the_wrong_type(tmp_path):
    path = tmp_path / "batch.parquet"
    table = pa.Table.from_pandas(sample_frame(rows=4).assign(Latitude=[True, False, True, True]))
    pq.write_table(table, path)
    with pytest.raises(DataFileError, match="'Latitude' has type bool"):
        validate_file(path)


# --- Bad rows: quarantined with a reason each, the rest goes on ------------------------------------


def test_truncated_csv_quarantines_the_cut_row(tmp_path):
    path = tmp_path / "batch.csv"
    sample_frame(rows=10).to_csv(path, index=False)
    text = path.read_text()
    path.write_text(text[: text.rindex(",", 0, len(text) - 40)])  # cut the last row after a few fields
    result = validate_file(path)
    _counts_add_up(result)
    assert result.report["counts"]["rows_in"] == 10
    assert list(result.quarantine["row"]) == [9]
    assert "missing" in result.quarantine["reasons"][0]


def test_strings_in_a_numeric_column_are_quarantined(tmp_path):
    path = tmp_path / "batch.csv"
    frame = sample_frame().astype({"MedInc": object})
    frame.loc[3, "MedInc"] = "abc"
    frame.loc[7, "MedInc"] = "12,5"
    frame.to_csv(path, index=False)
    result = validate_file(path)
    _counts_add_up(result)
    assert _reasons(result) == {3: "MedInc: not a number ('abc')", 7: "MedInc: not a number ('12,5')"}
    assert result.report["quarantine_reasons"] == {"not_a_number": {"MedInc": 2}}
    assert len(result.valid) == 38


def test_nans_are_quarantined_as_missing():
    frame = sample_frame()
    frame.loc[2, "AveRooms"] = np.nan
    frame.loc[5, TARGET.name] = np.nan
    result = validate_frame(frame, require_target=True)
    _counts_add_up(result)
    assert _reasons(result) == {2: "AveRooms: missing", 5: "MedHouseVal: missing"}


def test_out_of_range_and_infinite_values_are_quarantined():
    frame = sample_frame()
    frame.loc[0, "Latitude"] = 45.0  # Oregon
    frame.loc[1, "HouseAge"] = 53.0  # above the dataset's cap
    frame.loc[2, "Population"] = np.inf
    frame.loc[3, "MedInc"] = -1.0
    result = validate_frame(frame)
    _counts_add_up(result)
    assert _reasons(result) == {
        0: "Latitude: 45 outside [32.5, 42]",
        1: "HouseAge: 53 outside [1, 52]",
        2: "Population: inf outside [1, 40000]",
        3: "MedInc: -1 outside [0, 20]",
    }


def test_duplicates_are_quarantined_and_point_at_the_first_copy():
    frame = sample_frame()
    frame = pd.concat([frame, frame.iloc[[4, 4, 9]]], ignore_index=True)
    result = validate_frame(frame)
    _counts_add_up(result)
    assert _reasons(result) == {40: "duplicate of row 4", 41: "duplicate of row 4", 42: "duplicate of row 9"}
    assert result.report["quarantine_reasons"] == {"duplicate": {"row": 3}}
    assert len(result.valid) == 40


def test_rows_that_differ_in_one_value_are_not_duplicates():
    frame = sample_frame()
    twin = frame.iloc[[4]].copy()
    twin["MedInc"] += 1e-9
    result = validate_frame(pd.concat([frame, twin], ignore_index=True))
    assert result.report["counts"]["rows_quarantined"] == 0


def test_integrity_rule_bedrooms_cannot_exceed_rooms():
    frame = sample_frame()
    frame.loc[6, "AveBedrms"] = frame.loc[6, "AveRooms"] + 1.0
    result = validate_frame(frame)
    assert _reasons(result) == {6: "integrity: AveBedrms > AveRooms"}


def test_every_reason_of_a_row_is_listed_in_check_order():
    frame = sample_frame()
    frame.loc[8, "MedInc"] = np.nan
    frame.loc[8, "Longitude"] = -100.0
    result = validate_frame(frame)
    assert _reasons(result) == {8: "MedInc: missing; Longitude: -100 outside [-124.5, -114]"}


def test_quarantine_keeps_the_values_as_read():
    frame = sample_frame().astype({"MedInc": object})
    frame.loc[3, "MedInc"] = "abc"
    result = validate_frame(frame)
    assert result.quarantine.loc[0, "MedInc"] == "abc"
    assert result.quarantine.loc[0, "Latitude"] == frame.loc[3, "Latitude"]


# --- Table-level checks -----------------------------------------------------------------------------


def test_too_many_quarantined_rows_fail_the_validation():
    frame = sample_frame()
    frame.loc[:4, "MedInc"] = np.nan  # 5 of 40 rows
    assert not validate_frame(frame, max_quarantine_fraction=0.1).passed
    assert validate_frame(frame, max_quarantine_fraction=0.2).passed


def test_row_count_and_sha256_checks(tmp_path):
    path = tmp_path / "batch.parquet"
    sample_frame().to_parquet(path, index=False)
    result = validate_file(path, expected_rows=41, expected_sha256="0" * 64)
    assert not result.passed
    assert {failure["check"] for failure in result.report["failures"]} == {"row_count", "sha256"}
    assert validate_file(path, expected_rows=40, expected_sha256=sha256_file(path)).passed
    assert not validate_frame(sample_frame().iloc[:0]).passed  # no rows at all


def test_outliers_are_counted_not_quarantined():
    frame = sample_frame(rows=200)
    frame.loc[0, "AveOccup"] = 1000.0  # inside the contract, far outside the quartiles
    result = validate_frame(frame)
    assert result.report["outliers"]["AveOccup"] == 1
    assert result.report["counts"]["rows_quarantined"] == 0


def test_report_json_is_stable():
    report = validate_frame(sample_frame()).report
    assert validation.report_json(report) == validation.report_json(json.loads(validation.report_json(report)))


def test_parquet_writer_is_byte_deterministic(tmp_path):
    frame = sample_frame()
    validation.write_parquet(frame, tmp_path / "a.parquet")
    validation.write_parquet(frame.copy(), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


# --- The CLI --------------------------------------------------------------------------------------


def test_cli_writes_json_to_stdout_only_and_a_quarantine_file(tmp_path, capsys):
    path = tmp_path / "batch.csv"
    frame = sample_frame()
    frame.loc[1, "Latitude"] = 50.0
    frame.to_csv(path, index=False)
    valid_path = tmp_path / "valid.parquet"
    status = validate.main([str(path), "--valid-output", str(valid_path), "--max-quarantine-fraction", "0.05"])
    captured = capsys.readouterr()
    assert status == validate.EXIT_PASSED
    report = json.loads(captured.out)  # stdout is the report and nothing else
    assert report["counts"] == {"rows_in": 40, "rows_valid": 39, "rows_quarantined": 1}
    assert "40 rows in = 39 valid + 1 quarantined" in captured.err
    quarantine = pd.read_csv(tmp_path / "batch.csv.quarantine.csv")
    assert list(quarantine["row"]) == [1]
    assert quarantine["reasons"][0] == "Latitude: 50 outside [32.5, 42]"
    assert len(pd.read_parquet(valid_path)) == 39


def test_cli_failed_validation_exits_1_with_the_report(tmp_path, capsys):
    path = tmp_path / "batch.csv"
    frame = sample_frame()
    frame.loc[:9, "MedInc"] = np.nan
    frame.to_csv(path, index=False)
    report_path = tmp_path / "report.json"
    status = validate.main([str(path), "--report", str(report_path), "--quarantine", str(tmp_path / "q.csv")])
    captured = capsys.readouterr()
    assert status == validate.EXIT_FAILED
    assert captured.out == ""
    assert json.loads(report_path.read_text())["status"] == "failed"
    assert "FAILED quarantine_fraction" in captured.err
    assert len(pd.read_csv(tmp_path / "q.csv")) == 10


def test_cli_unreadable_file_exits_2_naming_the_problem(tmp_path, capsys):
    path = tmp_path / "batch.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    status = validate.main([str(path)])
    captured = capsys.readouterr()
    assert status == validate.EXIT_UNREADABLE
    assert captured.out == ""
    assert "not a readable Parquet file" in captured.err


def test_cli_resolves_relative_paths_against_the_users_directory(tmp_path, monkeypatch, capsys):
    sample_frame().to_csv(tmp_path / "batch.csv", index=False)
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(tmp_path))
    assert validate.main(["batch.csv", "--report", "report.json"]) == validate.EXIT_PASSED
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "passed"


def test_cli_pinned_raw_expects_the_contracts_hash_and_rows(tmp_path, capsys):
    path = tmp_path / "batch.parquet"
    sample_frame().to_parquet(path, index=False)
    status = validate.main([str(path), "--pinned-raw", "--report", str(tmp_path / "r.json")])
    assert status == validate.EXIT_FAILED
    failures = json.loads((tmp_path / "r.json").read_text())["failures"]
    assert {f["check"] for f in failures} == {"row_count", "sha256"}
    assert "20640" in capsys.readouterr().err


def test_the_default_quarantine_file_does_not_overwrite_an_existing_one(tmp_path, capsys):
    path = tmp_path / "batch.csv"
    sample_frame().to_csv(path, index=False)
    earlier = tmp_path / "batch.csv.quarantine.csv"
    earlier.write_text("row,reasons\n7,kept from an earlier run\n")
    status = validate.main([str(path)])
    captured = capsys.readouterr()
    assert status == validate.EXIT_CANNOT_WRITE
    assert earlier.read_text() == "row,reasons\n7,kept from an earlier run\n"
    assert "already exists" in captured.err
    assert "--quarantine" in captured.err
    # Named explicitly, the same file is the user's choice and is written.
    assert validate.main([str(path), "--quarantine", str(earlier)]) == validate.EXIT_PASSED
    assert len(pd.read_csv(earlier)) == 0


# Root (which runs these tests in the build root) may write into a chmod 0555 folder, so the
# unwritable folders here are ones no user can create files in: procfs, and a path below a file.
@pytest.mark.parametrize("folder", ["/proc/self", "a-file"])
def test_a_read_only_directory_exits_with_a_message_not_an_oserror(tmp_path, capsys, folder):
    path = tmp_path / "batch.csv"
    sample_frame().to_csv(path, index=False)
    (tmp_path / "a-file").write_text("")
    target = tmp_path / folder
    for option in ("--quarantine", "--report", "--valid-output"):
        others = {"--quarantine": str(tmp_path / "q.csv")} if option != "--quarantine" else {}
        argv = [str(path), option, str(target / "out"), *[x for pair in others.items() for x in pair]]
        assert validate.main(argv) == validate.EXIT_CANNOT_WRITE, option
        err = capsys.readouterr().err
        assert "validate: cannot write an output:" in err
        assert str(target) in err
