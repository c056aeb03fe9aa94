"""CPU per forwarded request of the api's predict client (aiohttp) against the httpx client it replaced, same run.

`bazel run //services/api:client_benchmark [-- --requests 4000 --connections 50]`. A stand-in
upstream (uvicorn + httptools, in a thread of its own) answers on loopback; the clients run on
the main thread's event loop, so that thread's CPU time is the client's cost alone. Prints the
median over rounds of CPU milliseconds per request for each client and their ratio.
"""

import argparse
import asyncio
import importlib.util
import socket
import statistics
import sys
import threading
import time

import httpx
import uvicorn

from services.api.app.core.config import Settings
from services.api.app.core.metrics import ApiMetrics
from services.api.app.core.predict_client import PredictClient

BODY = b'{"model_name":"m","model_version":"v1","prediction":2.5}'
REQUEST = b'{"MedInc":8.3,"HouseAge":41.0,"AveRooms":6.9,"AveBedrms":1.0,"Population":322.0,"AveOccup":2.5,"Latitude":37.88,"Longitude":-122.23}'


async def upstream(scope, receive, send) -> None:
    """A predict stand-in: read the body, answer a fixed prediction."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})


async def drive(call, requests: int, connections: int) -> float:
    """Send ``requests`` calls over ``connections`` concurrent workers; return client CPU ms per request."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.thread_time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return (time.thread_time() - started) * 1000 / requests


async def measure(url: str, requests: int, connections: int, rounds: int) -> dict[str, list[float]]:
    """Alternate the two clients for ``rounds`` rounds (after a warm-up each); return ms/request per round."""
    # The httpx client as the api ran it: with httpcore's failing per-request `import sniffio` cut short.
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None
    settings = Settings(api_key="x", predict_url=url, predict_max_connections=connections)
    aio = PredictClient(settings, ApiMetrics())
    await aio.start()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    hx = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(5.0), limits=limits)
    headers = {"content-type": "application/json"}

    async def via_aiohttp() -> None:
        answer = await aio.call("POST", "/v1/predict", content=REQUEST)
        if answer.status_code != 200:
            raise RuntimeError(f"aiohttp client: predict answered {answer.status_code}")

    async def via_httpx() -> None:
        response = await hx.post("/v1/predict", content=REQUEST, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"httpx client: predict answered {response.status_code}")
        await response.aread()

    clients = {"httpx (before)": via_httpx, "aiohttp (now)": via_aiohttp}
    results: dict[str, list[float]] = {name: [] for name in clients}
    try:
        for call in clients.values():
            await drive(call, min(500, requests), connections)  # warm-up: connections, caches
        for round_ in range(rounds):
            for name, call in clients.items():
                results[name].append(await drive(call, requests, connections))
            print(
                f"round {round_ + 1}/{rounds}: "
                + ", ".join(f"{name} {values[-1]:.3f} ms" for name, values in results.items()),
                file=sys.stderr,
            )
    finally:
        await aio.aclose()
        await hx.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per client per round (3000)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent requests (50)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the clients (3)")
    args = parser.parse_args(argv)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(upstream, host="127.0.0.1", port=port, log_config=None, access_log=False, http="httptools")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        results = asyncio.run(measure(f"http://127.0.0.1:{port}", args.requests, args.connections, args.rounds))
    finally:
        server.should_exit = True
        thread.join(10)
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"client CPU per request, {args.connections} connections, median of {args.rounds} rounds:")
    for name, value in medians.items():
        print(f"  {name:16} {value:.3f} ms")
    before, now = medians["httpx (before)"], medians["aiohttp (now)"]
    print(f"  ratio aiohttp/httpx: {now / before:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
