"""Test helpers every service's tests share: started TestClients of an app, and an ASGI app served on loopback."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tools.ports import free_port


@contextlib.contextmanager
def client_factory(build: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    """Yield a function that builds an app with ``build(**overrides)`` and returns a started TestClient.

    Every client made is stopped (its lifespan's shutdown run) when the context ends: a conftest
    fixture is then ``with client_factory(lambda **o: create_app(Settings(**defaults, **o))) as make:
    yield make``.
    """
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        client = TestClient(build(**overrides))
        client.__enter__()
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)


@contextlib.contextmanager
def served(app, timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI ``app`` with uvicorn on a free 127.0.0.1 port in a background thread.

    Yields:
        The base URL, e.g. "http://127.0.0.1:43125".

    Raises:
        RuntimeError: when the server has not started within ``timeout`` seconds.
    """
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"test server on port {port} did not start within {timeout}s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
