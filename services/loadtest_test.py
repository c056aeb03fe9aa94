"""Tests of the load benchmark's bookkeeping against a real HTTP server on loopback."""

import asyncio
import contextlib
from types import SimpleNamespace

from services import loadtest

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:"), 0
            )
            await reader.readexactly(length)
            writer.write(OK)
    writer.close()


def _drive(rows: int) -> loadtest.Result:
    args = SimpleNamespace(concurrency=10, requests=30, batch_concurrency=3, batch_requests=7, seconds=20.0)

    async def run() -> loadtest.Result:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await loadtest.drive("s", f"http://127.0.0.1:{port}", "/v1/predict", {"x": 1}, rows, args)

    return asyncio.run(run())


def test_warm_up_of_a_batch_scenario_is_counted_as_sent_not_as_a_fixed_40():
    result = _drive(rows=1000)  # batch: 3 connections warm up with 5 requests each
    assert (result.sent, result.warmup_sent, len(result.latencies)) == (7, 15, 7)
    cpu = loadtest.cpu_ms_per_request({"predict": 1.0}, {"predict": 1.22}, result)
    assert cpu == {"predict": 10.0}  # 220 ms over 7 + 15 requests


def test_warm_up_of_a_single_record_scenario_uses_at_most_8_connections():
    result = _drive(rows=1)
    assert (result.sent, result.warmup_sent) == (30, 40)
