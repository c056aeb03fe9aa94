"""A tiny real HTTP server on 127.0.0.1 recording the JSON bodies POSTed to it (a webhook receiver for tests)."""

import json
import queue
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class WebhookReceiver:
    """Accepts POSTs on any path; each JSON body is queued with its path.

    Use as a context manager: the server runs in a daemon thread until the block ends.
    ``fail_first`` makes the first N requests answer 500 (to test senders' retries).
    """

    def __init__(self, fail_first: int = 0) -> None:
        """Bind a free port on 127.0.0.1 (the server starts on ``__enter__``).

        Args:
            fail_first: how many requests to refuse with 500 before accepting.
        """
        self.received: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.attempts = 0
        self._fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.attempts += 1
                if receiver.attempts <= receiver._fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    payload = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.received.put((self.path, payload))
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it
                pass  # keep test output to what the test prints

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:41234``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float) -> Any:
        """Return the first received payload for which ``predicate`` holds (others are kept in ``seen``).

        Raises:
            TimeoutError: when none arrives within ``timeout`` seconds, listing what did arrive.
        """
        deadline = time.monotonic() + timeout
        seen = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                _, payload = self.received.get(timeout=remaining)
            except queue.Empty:
                break
            if predicate(payload):
                return payload
            seen.append(payload)
        raise TimeoutError(f"no matching payload within {timeout}s; received: {json.dumps(seen)[:2000]}")
