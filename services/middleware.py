"""ASGI middleware shared by the services: request id, access log line and request metrics."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from services import logs

# Ids we accept from a caller: short and printable, so a header cannot inject into log lines.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER = logs.REQUEST_ID_HEADER.lower().encode()

access_logger = logging.getLogger("access")

# Called once per HTTP request with (method, path label, status code, seconds).
Observer = Callable[[str, str, int, float], None]


class RequestContextMiddleware:
    """Gives each HTTP request an id, logs one access line and reports the request to ``observe``.

    The id is the caller's X-Request-ID when valid, and is echoed in the answer.

    A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it adds no task or
    stream per request, which matters on the prediction path.
    """

    def __init__(self, app, observe: Observer, known_paths: frozenset[str], access_log: bool = True) -> None:
        """Wrap ``app``.

        Args:
            app: the ASGI application.
            observe: receives (method, path, status, seconds) after each request.
            known_paths: paths reported as themselves; any other path is reported as "other",
                so scanners cannot blow up the metrics' label sets.
            access_log: whether to log one line per request.
        """
        self.app = app
        self.observe = observe
        self.known_paths = known_paths
        self.access_log = access_log

    async def __call__(self, scope, receive, send) -> None:
        """Handles one ASGI connection: HTTP requests are stamped, logged and observed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for key, value in scope["headers"]:
            if key == _HEADER:
                incoming = value.decode("latin-1")
                break
        rid = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        header_value = rid.encode()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (_HEADER, header_value)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = scope["path"] if scope["path"] in self.known_paths else "other"
            self.observe(scope["method"], path, status, elapsed)
            if self.access_log:
                access_logger.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 3), "path": scope["path"]},
                )
            logs.request_id.reset(token)
