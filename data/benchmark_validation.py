"""Benchmark: validation throughput (rows/s) and peak memory on synthetic housing tables."""

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from data.contract import ALL_COLUMNS, TARGET
from data.validation import read_table, validate_frame, write_parquet, write_quarantine


def synthetic_table(rows: int, bad_fraction: float, seed: int) -> pd.DataFrame:
    """A table shaped like the real one, with ``bad_fraction`` of rows broken in known ways.

    The broken rows are split evenly between missing values, out-of-range values and exact
    duplicates of other rows.
    """
    rng = np.random.default_rng(seed)
    columns = {
        "MedInc": rng.lognormal(1.25, 0.45, rows).clip(0.5, 15.0),
        "HouseAge": rng.integers(1, 53, rows).astype("float64"),
        "AveRooms": rng.lognormal(1.65, 0.25, rows).clip(0.85, 140.0),
        "AveBedrms": rng.lognormal(0.05, 0.1, rows).clip(0.34, 34.0),
        "Population": rng.lognormal(7.05, 0.7, rows).round().clip(3.0, 35000.0),
        "AveOccup": rng.lognormal(1.05, 0.25, rows).clip(0.7, 1200.0),
        "Latitude": rng.uniform(32.55, 41.95, rows).round(2),
        "Longitude": rng.uniform(-124.3, -114.35, rows).round(2),
        TARGET.name: rng.uniform(0.15, 5.00001, rows),
    }
    frame = pd.DataFrame(columns, columns=[col.name for col in ALL_COLUMNS])
    bad = rng.choice(rows, size=int(rows * bad_fraction), replace=False)
    missing, outside, duplicate = np.array_split(bad, 3)
    frame.loc[missing, "MedInc"] = np.nan
    frame.loc[outside, "Latitude"] = 45.0  # Oregon
    source = rng.integers(0, rows, len(duplicate))
    frame.iloc[duplicate] = frame.iloc[source].to_numpy()
    return frame


def _proc_status_mib(field: str) -> float | None:
    """A memory field of /proc/self/status in MiB (Linux), or None where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # the kernel reports kB
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where Linux does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float:
    # VmHWM belongs to this process's own address space. getrusage's ru_maxrss would not do:
    # it carries over the parent's peak across fork and exec.
    peak = _proc_status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(path: str, out_dir: str) -> dict:
    """Read, validate and write the outputs of one file; runs in a fresh process for clean peaks."""
    _reset_peak()
    baseline = _proc_status_mib("VmRSS") or _peak_rss_mib()
    start = time.perf_counter()
    frame, _ = read_table(path)
    read_done = time.perf_counter()
    result = validate_frame(frame, require_target=True, max_quarantine_fraction=1.0)
    check_done = time.perf_counter()
    write_quarantine(result.quarantine, Path(out_dir) / "quarantine.csv")
    write_parquet(result.valid, Path(out_dir) / "valid.parquet")
    end = time.perf_counter()
    return {
        "counts": result.report["counts"],
        "read_s": read_done - start,
        "check_s": check_done - read_done,
        "write_s": end - check_done,
        "total_s": end - start,
        "baseline_rss_mib": baseline,
        "peak_rss_mib": _peak_rss_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its numbers; returns the exit status."""
    parser = argparse.ArgumentParser(prog="benchmark_validation", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table (default: %(default)s)")
    parser.add_argument("--bad-fraction", type=float, default=0.01, help="share of broken rows (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the synthetic table")
    parser.add_argument("--workdir", help="where to write the tables (default: a temporary directory)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        frame = synthetic_table(args.rows, args.bad_fraction, args.seed)
        frame.to_parquet(work / "batch.parquet", index=False)
        frame.to_csv(work / "batch.csv", index=False)
        del frame
        print(f"validation benchmark: {args.rows:,} synthetic rows, {args.bad_fraction:.1%} broken")
        # A fresh process per run, so its peak memory is the validation's and not the generator's.
        context = multiprocessing.get_context("spawn")
        for fmt in ("parquet", "csv"):
            out = work / f"out_{fmt}"
            out.mkdir()
            with context.Pool(1) as pool:
                numbers = pool.apply(measure, (str(work / f"batch.{fmt}"), str(out)))
            counts = numbers["counts"]
            if counts["rows_in"] != counts["rows_valid"] + counts["rows_quarantined"]:
                print(f"counts do not add up: {counts}", file=sys.stderr)
                return 1
            rate = counts["rows_in"] / numbers["total_s"]
            check_rate = counts["rows_in"] / numbers["check_s"]
            print(
                f"  {fmt:<8} {rate:>12,.0f} rows/s end to end ({numbers['total_s']:.2f} s: "
                f"read {numbers['read_s']:.2f}, check {numbers['check_s']:.2f}, write {numbers['write_s']:.2f}); "
                f"checks alone {check_rate:,.0f} rows/s"
            )
            print(
                f"  {'':<8} peak RSS {numbers['peak_rss_mib']:,.0f} MiB "
                f"({numbers['peak_rss_mib'] - numbers['baseline_rss_mib']:,.0f} MiB above the "
                f"{numbers['baseline_rss_mib']:,.0f} MiB after imports); "
                f"{counts['rows_valid']:,} valid + {counts['rows_quarantined']:,} quarantined"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
