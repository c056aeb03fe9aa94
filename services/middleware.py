"""ASGI middleware shared by the services: request id, access log line, request metrics and body checks."""

import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus

from services import logs

# Ids we accept from a caller: short and printable, so a header cannot inject into log lines.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER = logs.REQUEST_ID_HEADER.lower().encode()

access_logger = logging.getLogger("access")

# Generated request ids: a random per-process prefix and a counter, 32 hex digits like a uuid4's
# hex. Unique per process run without a getrandom() system call per request (uuid4 was ~2 % of
# predict's CPU per request).
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    """A fresh request id: 32 hex digits, unique within this process."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFFFFFF:016x}"


# Called once per HTTP request with (method, path label, status code, seconds).
Observer = Callable[[str, str, int, float], None]

# Called with "too_large" or "unsupported_media_type" when a body is refused.
Rejection = Callable[[str], None]

_CONTENT_TYPE = b"content-type"
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


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
        rid = incoming if incoming and _VALID_ID.match(incoming) else new_request_id()
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


class BodyTooLargeError(Exception):
    """Raised from ``receive`` once a request body streams past the limit (answered 413 by the middleware)."""


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        # The rest of the body is not read; the client must not reuse this connection for it.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyGuardMiddleware:
    """Refuses request bodies before they cost anything: 415 unless JSON, 413 past ``max_bytes``.

    The size is checked by the Content-Length and counted again while the body streams, so a
    chunked body without a length is never buffered past the limit.

    Only requests that carry a body with a method meant for one (POST, PUT, PATCH) are checked;
    every such route of the services takes JSON. A bodiless request goes on to routing (405 for a
    wrong method, 422 for an empty prediction request).
    """

    def __init__(self, app, max_bytes: int, on_reject: Rejection | None = None) -> None:
        """Wrap ``app``.

        Args:
            app: the ASGI application.
            max_bytes: the largest body accepted.
            on_reject: told the kind of each refusal (for the service's error metrics).
        """
        self.app = app
        self.max_bytes = max_bytes
        self.on_reject = on_reject or (lambda kind: None)
        self.too_large = f"request body larger than {max_bytes} bytes"

    async def __call__(self, scope, receive, send) -> None:
        """Check one request's Content-Type and size, then pass it on with its body counted."""
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        content_type = length = None
        chunked = False
        for key, value in scope["headers"]:
            if key == _CONTENT_TYPE:
                content_type = value
            elif key == _CONTENT_LENGTH:
                length = value
            elif key == _TRANSFER_ENCODING:
                chunked = True
        has_body = chunked or (length is not None and length != b"0")
        if has_body and not _is_json(content_type):
            self.on_reject("unsupported_media_type")
            shown = content_type.decode("latin-1")[:100] if content_type else "none"
            await _answer(send, 415, f"send the body as Content-Type: application/json (got {shown})")
            return
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            self.on_reject("too_large")
            await _answer(send, 413, self.too_large)
            return

        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLargeError:
            if started:
                raise
            self.on_reject("too_large")
            await _answer(send, 413, self.too_large)
