"""Tests of the load benchmark's accounting (the servers themselves are exercised by running it)."""

import asyncio
import time

from services import loadtest, loadtest_report


class _ThisProcess:
    """Stands where a benchmarked server stands: its CPU time is this process's."""

    name = "self"

    def cpu(self) -> float:
        return time.process_time()


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_warm_up_is_not_counted_in_cpu_per_request():
    # The old benchmark charged warm-up CPU to the measured requests; measure() must see only
    # the CPU spent while the measured run executes.
    server = _ThisProcess()
    _burn(0.3)  # warm-up, outside the measurement
    result, cpu = loadtest.measure([server], lambda: _burn(0.05) or {"requests": 1})
    assert result == {"requests": 1}
    assert 0.04 <= cpu["self"] < 0.2


def _closed(server: str, connections: int, rps: float, rows: int = 1, api_cpu: float = 0.2) -> dict:
    return {
        "server": server,
        "connections": connections,
        "rows_per_request": rows,
        "requests_per_s": rps,
        "rows_per_s": rps * rows,
        "p50_ms": 0.4,
        "cpu_ms_per_request": {"api": api_cpu} if server == "api" else {},
    }


def test_ratios_are_medians_of_the_interleaved_rounds():
    # Three rounds at 50 connections; round 2 had a noisy neighbour during predict's run only.
    closed = [_closed(name, 1, 1000.0) for name in ("baseline", "predict", "api")]
    for predict, api, cpu in ((5000.0, 4500.0, 0.2), (2500.0, 4400.0, 0.3), (5200.0, 4000.0, 0.25)):
        closed += [
            _closed("baseline", 50, 8000.0),
            _closed("predict", 50, predict),
            _closed("api", 50, api, api_cpu=cpu),
        ]
    closed.append(_closed("predict", 4, 100.0, rows=1000))
    report = {
        "closed": closed,
        "open": [{"server": "predict", "p99_ms": 3.0}, {"server": "api", "p99_ms": 4.0}],
        "readyz_seconds": {"baseline": 0.4, "predict": 0.6, "api": 0.5},
    }
    summary = loadtest_report.summarize(report)
    # api/predict per round: 0.9, 1.76, 0.769 -> median 0.9 (a single round could say 0.769 or 1.76).
    assert summary["api_ratio_to_predict_50conn"] == 0.9
    assert summary["predict_rps_50conn"] == 5000.0
    assert summary["predict_ratio_to_baseline_50conn"] == 0.625
    assert summary["api_cpu_ms_per_request"] == 0.25
    assert summary["predict_batch_rows_per_s"] == 100_000.0
    assert summary["readyz_seconds"] == 0.6


def test_open_loop_sends_again_when_the_server_closed_an_idle_kept_alive_connection():
    async def scenario() -> list:
        async def answer_once_then_close(reader, writer):
            # As uvicorn does once a kept-alive connection has been idle for 5 s.
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer_once_then_close, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connections = loadtest._KeptAlive(f"http://127.0.0.1:{port}/", limit=4)
        request = loadtest.http_request(f"http://127.0.0.1:{port}/v1/predict", b"{}", "")
        try:
            first = await connections.send(request)
            await asyncio.sleep(0.05)  # the server has closed the connection kept for reuse
            second = await connections.send(request)
        finally:
            connections.close()
            server.close()
        return [first, second]

    assert asyncio.run(scenario()) == [200, 200]
