"""Load benchmark of the services as a user sees them: `bazel run //services:loadtest -- --help`.

Starts a minimal FastAPI app (the framework's ceiling), predict and api from their Bazel binaries
on loopback, then measures, all in one run so the ratios compare like with like:
  - start-up: process start to the first 200 on /readyz;
  - closed loop with wrk (C, one thread) at 1, 10 and 50 connections: requests/s, p50/p99; at 50
    connections in interleaved rounds, the ratios being the rounds' medians;
  - 1,000-record batches to predict: rows/s;
  - open loop at a fixed arrival rate (predict 1,000/s, api 500/s; latency counted from each
    request's scheduled send time, so a stalled server cannot hide its queue);
  - CPU ms per request of each server process (from /proc, the whole process group).
Prints the targets of issue 12 next to the numbers. Bounded: every run has a fixed duration.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import uvloop

from model.artifact import bundled_model_dir
from services.launch import ServiceProcess
from services.loadtest_report import TARGETS, print_report, summarize
from tools.ports import free_port
from tools.user_paths import user_path

API_KEY = "loadtest-key"
_TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the results."""
    print(message, file=sys.stderr, flush=True)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid`` (from /proc)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        # After the ")" of the command name: state ppid pgrp ... utime(12th) stime(13th).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


_WRK_SCRIPT = """
wrk.method = "POST"
local f = assert(io.open(os.getenv("LOADTEST_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("LOADTEST_API_KEY")
if key and key ~= "" then wrk.headers["X-API-Key"] = key end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("LOADTEST %d %d %d %d %.1f %.1f %.1f\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def run_wrk(wrk: str, target: tuple[str, str], body: Path, connections: int, seconds: float) -> dict:
    """One closed-loop wrk run (one thread): requests/s, non-2xx and socket errors, p50/p99/max in ms.

    Args:
        wrk: the wrk binary.
        target: (URL, API key or "").
        body: file holding the JSON body.
        connections: open connections, each sending its next request when the last is answered.
        seconds: duration.
    """
    url, api_key = target
    script = body.with_suffix(".lua")
    script.write_text(_WRK_SCRIPT)
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script), url]
    env = {**os.environ, "LOADTEST_BODY": str(body), "LOADTEST_API_KEY": api_key}
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("LOADTEST ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    requests, duration_us, status_errors, socket_errors, p50, p99, worst = line.split()[1:]
    seconds_run = int(duration_us) / 1e6
    return {
        "requests": int(requests),
        "requests_per_s": round(int(requests) / seconds_run, 1),
        "non_2xx": int(status_errors),
        "socket_errors": int(socket_errors),
        "p50_ms": round(float(p50) / 1000, 3),
        "p99_ms": round(float(p99) / 1000, 3),
        "max_ms": round(float(worst) / 1000, 3),
    }


def http_request(url: str, body: bytes, api_key: str = "") -> bytes:
    """A pre-encoded HTTP/1.1 keep-alive POST."""
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if api_key:
        lines.append(f"X-API-Key: {api_key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


class _KeptAlive:
    """The open loop's connections to one server: an idle one is reused, else one is opened (up to a limit)."""

    def __init__(self, url: str, limit: int) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.limit = parts.hostname, parts.port, limit
        self.idle: deque = deque()
        self.opened = 0

    async def _connect(self):
        self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError:
            self.opened -= 1
            return None

    async def _attempt(self, connection, request: bytes) -> int | None:
        try:
            return await _exchange(*connection, request)
        except OSError, asyncio.IncompleteReadError, ValueError:
            self.opened -= 1
            connection[1].close()
            return None

    async def send(self, request: bytes) -> int | str:
        """The answer's status; "dropped" when all ``limit`` connections are busy, "socket" when none answered."""
        reused = bool(self.idle)
        if reused:
            connection = self.idle.pop()
        elif self.opened >= self.limit:
            return "dropped"
        elif (connection := await self._connect()) is None:
            return "socket"
        status = await self._attempt(connection, request)
        if status is None and reused and (connection := await self._connect()) is not None:
            # A kept-alive connection the server closed while idle (uvicorn: after 5 s) fails
            # before any answer; like any HTTP client, send the request again on a new one.
            status = await self._attempt(connection, request)
        if status is None:
            return "socket"
        self.idle.append(connection)
        return status

    def close(self) -> None:
        """Close the idle connections."""
        for connection in self.idle:
            connection[1].close()


async def open_loop(url: str, request: bytes, rate: float, seconds: float, max_connections: int = 512) -> dict:
    """Send ``rate`` requests/s for ``seconds`` whatever the answers' pace; latency from the scheduled time.

    Connections are reused when idle and opened when none is (up to ``max_connections``; a
    request that finds none is counted as dropped, not delayed).
    """
    loop = asyncio.get_running_loop()
    connections = _KeptAlive(url, max_connections)
    latencies: list[float] = []
    errors = {"non_2xx": 0, "socket": 0, "dropped": 0}

    async def one(scheduled: float) -> None:
        outcome = await connections.send(request)
        if isinstance(outcome, str):
            errors[outcome] += 1
            return
        latencies.append(loop.time() - scheduled)
        if outcome != HTTPStatus.OK:
            errors["non_2xx"] += 1

    total = int(rate * seconds)
    tasks = set()
    start = loop.time() + 0.1
    sent = 0
    while sent < total:
        now = loop.time()
        due = min(total, int((now - start) * rate) + 1)
        while sent < due:
            task = asyncio.ensure_future(one(start + sent / rate))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    connections.close()
    lat = np.asarray(latencies) * 1000 if latencies else np.asarray([np.nan])
    return {
        "rate": rate,
        "sent": total,
        "answered": len(latencies),
        **errors,
        "p50_ms": round(float(np.percentile(lat, 50)), 3),
        "p99_ms": round(float(np.percentile(lat, 99)), 3),
        "max_ms": round(float(lat.max()), 3),
        "connections_used": connections.opened,
    }


def sample_records(model_dir: Path, rows: int) -> list[dict]:
    """Plausible records: each input drawn uniformly from the lower middle of its signature range."""
    signature = json.loads((model_dir / "signature.json").read_text())
    rng = np.random.default_rng(0)
    columns = {}
    for item in signature["inputs"]:
        low, high = float(item["minimum"]), float(item["maximum"])
        span = high - low
        columns[item["name"]] = rng.uniform(low + span / 8, low + span / 4, rows)
    return [{name: float(values[i]) for name, values in columns.items()} for i in range(rows)]


class Server:
    """A started service: its URL, process and start-up time."""

    def __init__(self, name: str, binary: str, args: list[str], env: dict[str, str], workdir: Path) -> None:
        """Start ``binary`` on a free port and wait for /readyz (timing it)."""
        self.name = name
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        self.process = ServiceProcess(
            binary, ["--host", "127.0.0.1", "--port", str(port), *args], env, workdir / f"{name}.log"
        )
        self.process.wait_until(self.url + "/readyz", timeout=120)
        self.readyz_seconds = round(time.monotonic() - started, 2)
        log(f"{name}: ready in {self.readyz_seconds} s at {self.url}")

    def cpu(self) -> float:
        """CPU seconds used so far by the service's whole process group."""
        return group_cpu_seconds(self.process.process.pid)


def measure(servers: list[Server], run) -> tuple[dict, dict[str, float]]:
    """Run ``run()`` and return its result and the CPU seconds each server used meanwhile."""
    before = {s.name: s.cpu() for s in servers}
    result = run()
    return result, {s.name: s.cpu() - before[s.name] for s in servers}


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The benchmark's command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", help="model directory (default: //model:model from the runfiles)")
    parser.add_argument("--predict-serve", required=True, help="the predict binary (set by the BUILD target)")
    parser.add_argument("--api-serve", required=True, help="the api binary (set by the BUILD target)")
    parser.add_argument("--baseline-serve", required=True, help="the minimal FastAPI binary (set by the BUILD target)")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="the wrk binary")
    parser.add_argument("--connections", default="1,10,50", help="closed-loop connection counts")
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each closed-loop run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of baseline, predict and api at the most connections, interleaved; the ratios are their medians",
    )
    parser.add_argument("--open-seconds", type=float, default=6.0, help="duration of each open-loop run")
    parser.add_argument("--predict-rate", type=float, default=1000.0, help="open-loop requests/s to predict")
    parser.add_argument("--api-rate", type=float, default=500.0, help="open-loop requests/s to api")
    parser.add_argument("--batch-rows", type=int, default=1000, help="records per batch request")
    parser.add_argument("--batch-connections", type=int, default=4, help="connections for batch requests")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser, parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print the results (a table, or JSON with --json)."""
    parser, args = parse_args(argv)

    model_dir = user_path(args.model_dir) if args.model_dir else bundled_model_dir()
    if model_dir is None:
        parser.error("no model in the runfiles; pass --model-dir")
    workdir = Path(tempfile.mkdtemp(prefix="loadtest-"))
    log(f"model: {model_dir}; logs and bodies: {workdir}; load average before: {os.getloadavg()}")
    records = sample_records(model_dir, args.batch_rows)
    single_body, batch_body = workdir / "single.json", workdir / "batch.json"
    single_body.write_text(json.dumps(records[0]))
    batch_body.write_text(json.dumps({"records": records}))

    servers: list[Server] = []
    report: dict = {"cpus": os.cpu_count(), "closed": [], "open": [], "targets": TARGETS}
    try:
        servers.append(Server("baseline", args.baseline_serve, [], {}, workdir))
        servers.append(
            Server(
                "predict",
                args.predict_serve,
                ["--model-dir", str(model_dir)],
                {"PREDICT_ACCESS_LOG": "false", "PREDICT_MAX_BATCH_SIZE": str(max(1000, args.batch_rows))},
                workdir,
            )
        )
        predict_url = servers[1].url
        servers.append(
            Server(
                "api",
                args.api_serve,
                ["--predict-url", predict_url],
                {
                    "API_API_KEY": API_KEY,
                    "API_ACCESS_LOG": "false",
                    "API_MAX_BATCH_SIZE": str(max(1000, args.batch_rows)),
                },
                workdir,
            )
        )
        report["readyz_seconds"] = {s.name: s.readyz_seconds for s in servers}
        by_name = {s.name: s for s in servers}
        plan = [
            (name, c, single_body, 1)
            for name in ("baseline", "predict", "api")
            for c in map(int, args.connections.split(","))
        ]
        # On a shared machine one run of each can be off by 30 %: the ratios at the most connections
        # are medians over interleaved rounds (the first round is in the plan above).
        top = max(map(int, args.connections.split(",")))
        plan += [(name, top, single_body, 1) for _ in range(args.rounds - 1) for name in ("baseline", "predict", "api")]
        plan.append(("predict", args.batch_connections, batch_body, args.batch_rows))
        for name, connections, body, rows in plan:
            key = API_KEY if name == "api" else ""
            url = by_name[name].url + "/v1/predict"
            log(f"closed loop: {name}, {connections} connections, {rows} row(s) per request, {args.seconds:g} s")
            run_wrk(args.wrk, (url, key), body, connections, 1.0)  # warm-up
            result, cpu = measure(servers, lambda: run_wrk(args.wrk, (url, key), body, connections, args.seconds))  # noqa: B023
            result.update(server=name, connections=connections, rows_per_request=rows)
            result["rows_per_s"] = round(result["requests_per_s"] * rows, 1)
            result["cpu_ms_per_request"] = {
                k: round(v * 1000 / max(1, result["requests"]), 3) for k, v in cpu.items() if v > 0
            }
            report["closed"].append(result)

        for name, rate in (("predict", args.predict_rate), ("api", args.api_rate)):
            key = API_KEY if name == "api" else ""
            request = http_request(by_name[name].url + "/v1/predict", single_body.read_bytes(), key)
            log(f"open loop: {name} at {rate:g} requests/s for {args.open_seconds:g} s")
            result, cpu = measure(
                servers,
                lambda: uvloop.run(open_loop(by_name[name].url + "/v1/predict", request, rate, args.open_seconds)),  # noqa: B023
            )
            result["server"] = name
            result["cpu_ms_per_request"] = {
                k: round(v * 1000 / max(1, result["sent"]), 3) for k, v in cpu.items() if v > 0
            }
            report["open"].append(result)
    finally:
        for server in reversed(servers):
            server.process.stop()
    report["load_average_after"] = os.getloadavg()
    report["summary"] = summarize(report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
