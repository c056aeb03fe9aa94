"""A tiny stdlib HTTP service that proves the image machinery: /healthz, /readyz and POST /echo."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import override


class Handler(BaseHTTPRequestHandler):
    """Answers health probes and echoes JSON bodies with the server's uid and Python version."""

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @override
    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(200, {"status": "ok"})
        elif self.path == "/readyz":
            self._send(200, {"ready": True, "uid": os.getuid(), "python": sys.version.split()[0]})
        else:
            self._send(404, {"error": "not found"})

    @override
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"error": "invalid JSON"})
            return
        self._send(200, {"echo": payload, "cwd": os.getcwd()})

    @override
    def log_message(self, format: str, *args: object) -> None:
        print(f"hello_server: {format % args}", file=sys.stderr)


def main() -> int:
    """Serves on 127.0.0.1:$HELLO_PORT (default 8080) until killed."""
    host = os.environ.get("HELLO_HOST", "127.0.0.1")
    port = int(os.environ.get("HELLO_PORT", "8080"))
    server = ThreadingHTTPServer((host, port), Handler)
    print(f"hello_server: listening on {host}:{port}", file=sys.stderr)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
