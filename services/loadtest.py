"""Load benchmark of the services on loopback: `bazel run //services:loadtest -- --help`.

Starts predict and api from their Bazel binaries (unless --predict-url/--api-url point at running
ones), drives them with keep-alive HTTP/1.1 connections, and prints requests/s and latency
percentiles for single-record and batch requests, straight to predict and through the api, plus
the ratio of batch rows/s to calling the model's predict in-process. Bounded in requests and time.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import uvloop
from threadpoolctl import threadpool_limits

from model.artifact import bundled_model_dir
from services.launch import ServiceProcess, free_port, get

API_KEY = "loadtest-key"


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the results."""
    print(message, file=sys.stderr, flush=True)


class Result:
    """Latencies and failures of one scenario."""

    def __init__(self, name: str, rows_per_request: int, concurrency: int) -> None:
        self.name = name
        self.rows_per_request = rows_per_request
        self.concurrency = concurrency
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.sent = 0
        self.elapsed = 0.0
        self.cpu_ms: dict[str, float] = {}

    def summary(self) -> dict:
        """Throughput and latency percentiles (ms) of the scenario."""
        ok = len(self.latencies)
        lat = np.asarray(self.latencies) * 1000 if ok else np.asarray([np.nan])
        return {
            "scenario": self.name,
            "concurrency": self.concurrency,
            "rows_per_request": self.rows_per_request,
            "requests_sent": self.sent,
            "ok": ok,
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "lost": self.sent - ok - sum(self.errors.values()),
            "seconds": round(self.elapsed, 3),
            "requests_per_s": round(ok / self.elapsed, 1) if self.elapsed else 0.0,
            "rows_per_s": round(ok * self.rows_per_request / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p95_ms": round(float(np.percentile(lat, 95)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "max_ms": round(float(lat.max()), 2),
            "cpu_ms_per_request": self.cpu_ms,
        }


def build_request(url: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One pre-encoded HTTP/1.1 keep-alive POST (the client then costs almost nothing per request)."""
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(url: str, request: bytes, result: Result, budget: list[int], deadline: float) -> None:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            result.sent += 1
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                result.errors[type(error).__name__] = result.errors.get(type(error).__name__, 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                continue
            if status == 200:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors[f"HTTP {status}"] = result.errors.get(f"HTTP {status}", 0) + 1
    finally:
        writer.close()


def cpu_seconds(url: str) -> float:
    """process_cpu_seconds_total of the service at ``url`` (from its /metrics)."""
    text = get(url + "/metrics")[1].decode()
    for line in text.splitlines():
        if line.startswith("process_cpu_seconds_total "):
            return float(line.split()[1])
    return float("nan")


async def drive(name: str, url: str, path: str, payload: object, rows: int, args, headers=None) -> Result:
    """Run one scenario: ``concurrency`` connections share a request budget and a time limit."""
    concurrency = args.concurrency if rows == 1 else args.batch_concurrency
    requests = args.requests if rows == 1 else args.batch_requests
    request = build_request(url, path, json.dumps(payload).encode(), headers or {})
    # Warm-up: connections, caches, the first model calls.
    warm = Result(name, rows, concurrency)
    await asyncio.gather(
        *(_connection(url, request, warm, [5], time.perf_counter() + 10) for _ in range(min(concurrency, 8)))
    )
    result = Result(name, rows, concurrency)
    budget = [requests]
    started = time.perf_counter()
    deadline = started + args.seconds
    await asyncio.gather(*(_connection(url, request, result, budget, deadline) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


def in_process_rows_per_s(model_dir: Path, frame: pd.DataFrame, seconds: float) -> dict[str, float]:
    """Rows/s of calling the model's predict directly on ``frame`` (the same batch the services get),
    with the default OpenMP threads and with one thread (what the predict service uses).
    """
    from model.artifact import load_model

    model = load_model(model_dir)
    out = {}
    for label, threads in (("default threads", None), ("1 thread", 1)):
        with threadpool_limits(threads, "openmp"):
            model.predict(frame)
            calls, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                model.predict(frame)
                calls += 1
            out[label] = calls * len(frame) / (time.perf_counter() - started)
    return out


def sample_records(model_dir: Path, rows: int) -> list[dict]:
    """Plausible records: each input drawn uniformly from the middle half of its signature range."""
    signature = json.loads((model_dir / "signature.json").read_text())
    rng = np.random.default_rng(0)
    columns = {}
    for item in signature["inputs"]:
        low, high = float(item["minimum"]), float(item["maximum"])
        span = high - low
        columns[item["name"]] = rng.uniform(low + span / 8, low + span / 4, rows)
    return pd.DataFrame(columns).to_dict(orient="records")


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print one line per scenario (or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model-dir",
        help="model directory (default: //model:model from runfiles, else a small synthetic model trained here)",
    )
    parser.add_argument("--predict-serve", help="the predict service binary (set by the BUILD target)")
    parser.add_argument("--api-serve", help="the api service binary (set by the BUILD target)")
    parser.add_argument("--predict-url", help="use this running predict service instead of starting one")
    parser.add_argument("--api-url", help="use this running api service instead of starting one (needs --api-key)")
    parser.add_argument("--api-key", default=API_KEY, help="API key for --api-url")
    parser.add_argument("--concurrency", type=int, default=50, help="connections for single-record requests")
    parser.add_argument("--batch-concurrency", type=int, default=4, help="connections for batch requests")
    parser.add_argument("--batch-rows", type=int, default=1000, help="records per batch request")
    parser.add_argument("--requests", type=int, default=20000, help="most single-record requests per scenario")
    parser.add_argument("--batch-requests", type=int, default=300, help="most batch requests per scenario")
    parser.add_argument("--seconds", type=float, default=15.0, help="most seconds per scenario")
    parser.add_argument("--access-log", action="store_true", help="keep per-request access logs on (default off)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["predict-single", "predict-batch", "api-single", "api-batch"],
        help="run only these scenarios (repeatable; default: all)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="print the tail of each service's log")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)

    base = Path(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    workdir = Path(tempfile.mkdtemp(prefix="loadtest-"))
    if args.model_dir:
        model_dir = base / args.model_dir
    elif (model_dir := bundled_model_dir()) is None:
        from services.predict.tests.support import write_model

        log("no model in runfiles and no --model-dir: training a small synthetic model for the benchmark")
        model_dir = write_model(workdir / "model")
    log(f"model: {model_dir}; service logs: {workdir}")

    processes: list[ServiceProcess] = []
    try:
        access = "true" if args.access_log else "false"
        predict_url = args.predict_url
        if predict_url is None:
            port = free_port()
            predict_url = f"http://127.0.0.1:{port}"
            processes.append(
                ServiceProcess(
                    args.predict_serve,
                    ["--host", "127.0.0.1", "--port", str(port), "--model-dir", str(model_dir)],
                    {"PREDICT_ACCESS_LOG": access, "PREDICT_MAX_BATCH_SIZE": str(max(1000, args.batch_rows))},
                    workdir / "predict.log",
                )
            )
            processes[-1].wait_until(predict_url + "/readyz")
        api_url, api_key = args.api_url, args.api_key
        if api_url is None:
            port = free_port()
            api_url, api_key = f"http://127.0.0.1:{port}", API_KEY
            processes.append(
                ServiceProcess(
                    args.api_serve,
                    ["--host", "127.0.0.1", "--port", str(port), "--predict-url", predict_url],
                    {
                        "API_API_KEY": API_KEY,
                        "API_ACCESS_LOG": access,
                        "API_MAX_BATCH_SIZE": str(max(1000, args.batch_rows)),
                    },
                    workdir / "api.log",
                )
            )
            processes[-1].wait_until(api_url + "/readyz")

        records = sample_records(model_dir, args.batch_rows)
        single, batch = records[0], {"records": records}
        auth = {"X-API-Key": api_key}

        async def scenarios() -> list[Result]:
            out = []
            for name, url, payload, rows, headers in (
                ("predict single", predict_url, single, 1, None),
                ("predict batch", predict_url, batch, args.batch_rows, None),
                ("api single", api_url, single, 1, auth),
                ("api batch", api_url, batch, args.batch_rows, auth),
            ):
                if args.only and name.replace(" ", "-") not in args.only:
                    continue
                log(f"running {name} ...")
                before = {key: cpu_seconds(u) for key, u in (("predict", predict_url), ("api", api_url))}
                result = await drive(name, url, "/v1/predict", payload, rows, args, headers)
                after = {key: cpu_seconds(u) for key, u in (("predict", predict_url), ("api", api_url))}
                # Includes the warm-up requests; CPU per request of each service process.
                total = len(result.latencies) + 8 * 5
                result.cpu_ms = {key: round((after[key] - before[key]) * 1000 / total, 2) for key in before}
                out.append(result)
            return out

        results = [result.summary() for result in uvloop.run(scenarios())]
        log("measuring in-process model.predict ...")
        frame = pd.DataFrame(records)
        direct = in_process_rows_per_s(model_dir, frame, seconds=min(args.seconds, 5.0))
        if args.keep_logs:
            for process in processes:
                log(f"--- {process.log_path}:\n{process.log_tail(5)}")
    finally:
        for process in processes:
            process.stop()

    # The stricter comparison: against the faster of the two in-process measurements.
    best = max(direct.values())
    ratios = {r["scenario"]: round(r["rows_per_s"] / best, 3) for r in results if r["rows_per_request"] > 1}
    report = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "in_process_rows_per_s": {key: round(value, 1) for key, value in direct.items()},
        "batch_ratio_to_in_process": ratios,
        "scenarios": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{'scenario':<16}{'conc':>5}{'rows':>6}{'ok':>8}{'err':>5}{'lost':>5}{'req/s':>9}{'rows/s':>11}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}  cpu ms/req (predict, api)"
    )
    for r in results:
        print(
            f"{r['scenario']:<16}{r['concurrency']:>5}{r['rows_per_request']:>6}{r['ok']:>8}{r['errors']:>5}"
            f"{r['lost']:>5}{r['requests_per_s']:>9}{r['rows_per_s']:>11}{r['p50_ms']:>8}{r['p95_ms']:>8}"
            f"{r['p99_ms']:>8}  {r['cpu_ms_per_request'].get('predict')}, {r['cpu_ms_per_request'].get('api')}"
        )
    for label, value in direct.items():
        print(f"in-process model.predict on {args.batch_rows} rows ({label}): {value:,.0f} rows/s")
    for name, ratio in ratios.items():
        print(f"batch ratio ({name} rows/s / best in-process rows/s): {ratio}")
    print(f"cpus: {os.cpu_count()}, load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
