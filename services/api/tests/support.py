"""Helpers for the api tests: a stand-in predict upstream and a silent server."""

import contextlib
import socket
import threading
from collections.abc import Iterator


class Upstream:
    """A small ASGI app standing in for the predict service: records what it receives and answers
    with whatever the test sets (status, JSON body)."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b'{"model_name":"m","model_version":"v1","prediction":2.5}'
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        self.received.append((scope["method"], scope["path"], headers, body))
        await send(
            {"type": "http.response.start", "status": self.status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": self.body})


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A real TCP server on 127.0.0.1 that accepts connections and never answers (a hung upstream).

    Yields:
        (port, accepted connections so far).
    """
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        server.close()
