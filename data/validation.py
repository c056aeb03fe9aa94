"""Validation of a housing table against the data contract: fatal errors, per-row quarantine, a report."""

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data.contract import COLUMNS, SCHEMA_VERSION, TARGET, Column
from tools.hashing import sha256_file

# A column whose non-missing values are mostly not numbers has the wrong type (a fatal
# error); below this share the stray strings are bad cells and their rows are quarantined.
WRONG_TYPE_SHARE = 0.5
# Values this many inter-quartile ranges beyond the quartiles are counted as outliers. The
# real table has legitimate extremes (AveOccup 1243 in a dormitory block), so outliers are
# reported, not quarantined; the contract's ranges are the hard limits.
OUTLIER_IQR_FACTOR = 3.0
OUTLIER_SAMPLE = 100_000
DEFAULT_MAX_QUARANTINE_FRACTION = 0.01

# Row-level integrity rules across columns: (name, description, predicate on the numeric frame).
INTEGRITY_RULES = (("bedrooms_exceed_rooms", "AveBedrms > AveRooms", lambda f: f["AveBedrms"] > f["AveRooms"]),)


class DataFileError(ValueError):
    """The file cannot be validated at all: unreadable, wrong format, missing columns or wrong types."""


@dataclass
class ValidationResult:
    """The outcome of validating one table.

    Attributes:
        valid: the rows that passed, contract columns only, float64, in input order.
        quarantine: the rows that failed, as read, with ``row`` (0-based position in the
            input's data rows) and ``reasons`` ("; "-separated).
        report: the machine-readable report (see ``validate_frame``).
    """

    valid: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict

    @property
    def passed(self) -> bool:
        """Whether the table passed (no failed table-level check)."""
        return self.report["status"] == "passed"


def detect_format(path: str | os.PathLike) -> str:
    """Return "parquet" or "csv" for ``path`` from its magic bytes or, failing that, its name.

    Raises:
        DataFileError: when the file is missing or its format is neither.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    name = path.name.lower()
    if magic == b"PAR1" or ".parquet" in name or name.endswith(".pq"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    raise DataFileError(f"{path}: unsupported format; expected a Parquet file or a .csv file")


def read_table(path: str | os.PathLike) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Parquet file into a DataFrame, returning it and the format name.

    Raises:
        DataFileError: when the file cannot be read as its format (truncated, corrupt, empty).
    """
    fmt = detect_format(path)
    if fmt == "parquet":
        try:
            return pq.read_table(path).to_pandas(), fmt
        except (pa.ArrowException, OSError, ValueError) as error:
            raise DataFileError(f"{path}: not a readable Parquet file (truncated or corrupt?): {error}") from error
    try:
        return pd.read_csv(path, low_memory=False), fmt
    except pd.errors.EmptyDataError as error:
        raise DataFileError(f"{path}: empty CSV file (no header)") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise DataFileError(f"{path}: not a readable CSV file: {error}") from error


def _check_columns(frame: pd.DataFrame, require_target: bool) -> list[Column]:
    """The contract columns to check; raises DataFileError naming missing columns."""
    wanted = list(COLUMNS) + ([TARGET] if require_target or TARGET.name in frame.columns else [])
    missing = [col.name for col in wanted if col.name not in frame.columns]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1, cutoff=0.6)
            if close:
                hints.append(f"{name!r} (found {close[0]!r}?)")
        hint = f"; did you mean: {', '.join(hints)}" if hints else ""
        raise DataFileError(
            f"missing column(s) {', '.join(missing)}; the file has {[str(c) for c in frame.columns]}{hint}"
        )
    duplicated = sorted({str(c) for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise DataFileError(f"column(s) {', '.join(duplicated)} appear more than once in the header")
    return wanted


def _to_numeric(series: pd.Series, col: Column) -> tuple[np.ndarray, np.ndarray]:
    """Float64 values and a mask of cells that are present but not numbers.

    Raises:
        DataFileError: when the column's type is wrong (booleans, dates, or mostly text).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        raise DataFileError(f"column {col.name!r} has type {dtype}; the contract wants {col.dtype}")
    if pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan), np.zeros(len(series), dtype=bool)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    present = series.notna().to_numpy()
    not_a_number = present & np.isnan(numbers)
    if present.sum() and not_a_number.sum() > WRONG_TYPE_SHARE * present.sum():
        examples = ", ".join(repr(v) for v in series[not_a_number].drop_duplicates().head(3))
        raise DataFileError(
            f"column {col.name!r} has the wrong type: {int(not_a_number.sum())} of {int(present.sum())} values "
            f"are not numbers (e.g. {examples}); the contract wants {col.dtype}"
        )
    return numbers, not_a_number


def _duplicates(numbers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A mask of rows that exactly repeat an earlier row (NaN equals NaN), and each row's first copy.

    Rows are grouped by a 64-bit hash (fast on millions of rows, unlike pandas' per-column
    factorising), then every candidate is compared value by value with its first copy, so a
    hash collision can never quarantine a row that is not a duplicate.
    """
    n = len(numbers)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    keys = pd.util.hash_pandas_object(numbers, index=False).to_numpy()
    repeated = pd.Series(keys).duplicated(keep="first").to_numpy()
    first = np.arange(n)
    candidate = np.flatnonzero(repeated)
    first[candidate] = np.flatnonzero(~repeated)[pd.Index(keys[~repeated]).get_indexer(keys[candidate])]
    matrix = numbers.to_numpy(dtype="float64")
    a, b = matrix[candidate], matrix[first[candidate]]
    same = ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)
    duplicate = np.zeros(n, dtype=bool)
    duplicate[candidate[same]] = True
    return duplicate, first


def _join_reasons(messages: list[pd.Series], rows: np.ndarray) -> list[str]:
    """For each of ``rows``, its reasons joined by "; ", in the order the checks ran."""
    if not messages:
        return []
    index = np.concatenate([m.index.to_numpy() for m in messages])
    texts = np.concatenate([m.to_numpy(dtype=object) for m in messages])
    order = np.argsort(index, kind="stable")
    collected: dict[int, list[str]] = {}
    for row, text in zip(index[order].tolist(), texts[order].tolist(), strict=True):
        collected.setdefault(row, []).append(text)
    return ["; ".join(collected[row]) for row in rows.tolist()]


def _messages(mask: np.ndarray, texts: str | list[str]) -> pd.Series:
    """Reason texts indexed by the positions of the rows where ``mask`` holds."""
    return pd.Series(texts, index=np.flatnonzero(mask), dtype=object)


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def _column_problems(frame: pd.DataFrame, columns: list[Column]) -> tuple[dict[str, np.ndarray], list[tuple]]:
    """Per-column row checks: missing, not a number, out of range.

    Returns:
        The columns as float arrays, and the problems found as (kind, column, mask, messages).
    """
    numeric: dict[str, np.ndarray] = {}
    problems: list[tuple[str, str, np.ndarray, pd.Series]] = []
    for col in columns:
        values, not_a_number = _to_numeric(frame[col.name], col)
        numeric[col.name] = values
        missing = np.isnan(values) & ~not_a_number
        if not col.nullable and missing.any():
            problems.append(("missing", col.name, missing, _messages(missing, f"{col.name}: missing")))
        if not_a_number.any():
            raw = frame[col.name].to_numpy()[not_a_number]
            texts = [f"{col.name}: not a number ({_fmt(v)})" for v in raw]
            problems.append(("not_a_number", col.name, not_a_number, _messages(not_a_number, texts)))
        with np.errstate(invalid="ignore"):
            outside = ~np.isnan(values) & ~((values >= col.minimum) & (values <= col.maximum))
        if outside.any():
            texts = [f"{col.name}: {v:g} outside [{col.minimum:g}, {col.maximum:g}]" for v in values[outside]]
            problems.append(("out_of_range", col.name, outside, _messages(outside, texts)))
    return numeric, problems


def validate_frame(
    frame: pd.DataFrame,
    *,
    require_target: bool = False,
    expected_rows: int | None = None,
    min_rows: int = 1,
    max_quarantine_fraction: float = DEFAULT_MAX_QUARANTINE_FRACTION,
) -> ValidationResult:
    """Validate a table against the contract; rows that fail go to quarantine with reasons.

    Row checks (each failing row is quarantined, with every reason that applies): missing
    value, not a number, outside the contract's range, integrity rules across columns, and
    exact duplicates of an earlier row. Table checks (a failure makes the status "failed"):
    the row count and the quarantined share. Outliers (beyond OUTLIER_IQR_FACTOR IQRs) are
    counted, not quarantined. Counts always add up: rows_in = rows_valid + rows_quarantined.

    Args:
        frame: the table as read; columns beyond the contract's are ignored (and reported).
        require_target: whether the target column must be present (training data); when
            absent and not required (an inference batch) only the features are checked.
        expected_rows: the exact row count required, if any.
        min_rows: the smallest acceptable row count.
        max_quarantine_fraction: the largest acceptable share of quarantined rows.

    Raises:
        DataFileError: when columns are missing or have the wrong type.
    """
    columns = _check_columns(frame, require_target)
    names = [col.name for col in columns]
    n = len(frame)
    numeric, problems = _column_problems(frame, columns)

    numbers = pd.DataFrame(numeric, columns=names)
    for rule, description, predicate in INTEGRITY_RULES:
        with np.errstate(invalid="ignore"):
            broken = predicate(numbers).to_numpy()
        if broken.any():
            problems.append(("integrity", rule, broken, _messages(broken, f"integrity: {description}")))

    duplicate, first = _duplicates(numbers)
    if duplicate.any():
        texts = [f"duplicate of row {r}" for r in first[duplicate]]
        problems.append(("duplicate", "row", duplicate, _messages(duplicate, texts)))

    bad = np.zeros(n, dtype=bool)
    for _, _, mask, _ in problems:
        bad |= mask
    bad_rows = np.flatnonzero(bad)
    quarantine = frame.iloc[bad_rows].copy()
    quarantine.insert(0, "row", bad_rows)
    quarantine["reasons"] = _join_reasons([messages for *_, messages in problems], bad_rows)
    quarantine = quarantine.reset_index(drop=True)
    valid = numbers.loc[~bad].reset_index(drop=True)

    rows_valid, rows_quarantined = len(valid), len(quarantine)
    if rows_valid + rows_quarantined != n:  # an invariant, not an input error
        raise AssertionError(f"row accounting broke: {n} in, {rows_valid} valid, {rows_quarantined} quarantined")

    failures = []
    if expected_rows is not None and n != expected_rows:
        failures.append({"check": "row_count", "message": f"{n} rows, expected exactly {expected_rows}"})
    if n < min_rows:
        failures.append({"check": "row_count", "message": f"{n} rows, expected at least {min_rows}"})
    share = rows_quarantined / n if n else 0.0
    if share > max_quarantine_fraction:
        failures.append(
            {
                "check": "quarantine_fraction",
                "message": f"{rows_quarantined} of {n} rows quarantined ({share:.2%}), "
                f"more than the allowed {max_quarantine_fraction:.2%}",
            }
        )

    by_kind: dict[str, dict[str, int]] = {}
    for kind, column_name, mask, _ in problems:
        by_kind.setdefault(kind, {})[column_name] = int(mask.sum())

    report = {
        "schema_version": SCHEMA_VERSION,
        "status": "failed" if failures else "passed",
        "counts": {"rows_in": n, "rows_valid": rows_valid, "rows_quarantined": rows_quarantined},
        "failures": failures,
        "quarantine_reasons": by_kind,
        "outliers": _outliers(valid),
        "columns_checked": names,
        "ignored_columns": [str(c) for c in frame.columns if c not in names],
        "statistics": _statistics(valid),
    }
    return ValidationResult(valid=valid, quarantine=quarantine, report=report)


def _outliers(valid: pd.DataFrame) -> dict[str, int]:
    """Per column, the count of valid values beyond OUTLIER_IQR_FACTOR IQRs of the quartiles.

    On large tables the quartiles come from an evenly strided sample of at most
    OUTLIER_SAMPLE rows: outliers are a warning, and exact quartiles cost more than the checks.
    """
    out = {}
    for name in valid.columns:
        values = valid[name].to_numpy()
        if len(values) == 0:
            out[name] = 0
            continue
        sample = values[:: max(1, len(values) // OUTLIER_SAMPLE)]
        q1, q3 = np.quantile(sample, [0.25, 0.75])
        spread = OUTLIER_IQR_FACTOR * (q3 - q1)
        out[name] = int(((values < q1 - spread) | (values > q3 + spread)).sum())
    return out


def _statistics(valid: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """Min, max and mean of each column over the valid rows (None when there are none)."""
    stats = {}
    for name in valid.columns:
        values = valid[name].to_numpy()
        if len(values) == 0:
            stats[name] = {"min": None, "max": None, "mean": None}
        else:
            stats[name] = {"min": float(values.min()), "max": float(values.max()), "mean": float(values.mean())}
    return stats


def validate_file(
    path: str | os.PathLike,
    *,
    expected_sha256: str | None = None,
    **options,
) -> ValidationResult:
    """Read and validate a CSV or Parquet file; the report also names the file and its sha256.

    Args:
        path: the file.
        expected_sha256: the pinned content hash, if any; a mismatch fails the validation.
        **options: passed to ``validate_frame``.

    Raises:
        DataFileError: when the file cannot be read, or lacks columns, or has wrong types.
    """
    frame, fmt = read_table(path)
    digest = sha256_file(path)
    try:
        result = validate_frame(frame, **options)
    except DataFileError as error:
        raise DataFileError(f"{path}: {error}") from error
    result.report["source"] = {"path": str(path), "format": fmt, "sha256": digest, "bytes": os.path.getsize(path)}
    if expected_sha256 is not None and digest != expected_sha256:
        result.report["failures"].append(
            {"check": "sha256", "message": f"file sha256 {digest} is not the pinned {expected_sha256}"}
        )
        result.report["status"] = "failed"
    return result


def report_json(report: dict) -> str:
    """The report as stable JSON text (sorted keys, so identical inputs give identical bytes)."""
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


def summary(report: dict) -> str:
    """A short human-readable summary of a report."""
    counts = report["counts"]
    source = report.get("source", {})
    name = Path(source["path"]).name if "path" in source else "table"
    head = f"{report['status'].upper()} {name}"
    if source:
        head += f" ({source['format']}, sha256 {source['sha256'][:12]})"
    lines = [
        f"{head}: {counts['rows_in']} rows in = {counts['rows_valid']} valid + {counts['rows_quarantined']} quarantined"
    ]
    for kind, per_column in sorted(report["quarantine_reasons"].items()):
        detail = ", ".join(f"{column} {count}" for column, count in sorted(per_column.items()))
        lines.append(f"  quarantined for {kind}: {detail}")
    outliers = {k: v for k, v in report["outliers"].items() if v}
    if outliers:
        lines.append("  outliers kept: " + ", ".join(f"{k} {v}" for k, v in sorted(outliers.items())))
    if report["ignored_columns"]:
        lines.append("  ignored columns: " + ", ".join(report["ignored_columns"]))
    for failure in report["failures"]:
        lines.append(f"  FAILED {failure['check']}: {failure['message']}")
    return "\n".join(lines)


def write_quarantine(quarantine: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the quarantined rows with their reasons as CSV (a header only when there are none)."""
    quarantine.to_csv(path, index=False, lineterminator="\n")


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a table as Parquet with fixed settings, so equal frames give byte-identical files."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=False,
        write_statistics=True,
        row_group_size=1 << 20,
        version="2.6",
        data_page_version="1.0",
    )
