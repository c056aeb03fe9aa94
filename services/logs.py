"""Structured (JSON lines) logging shared by the services, with the request id on each line."""

import contextvars
import json
import logging
import sys
import time
from typing import TextIO, override

# The id of the request being handled, set by each service's middleware and forwarded from
# api to predict in the X-Request-ID header.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id when it is logged (not when formatted)."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """Formats each record as one JSON object: time, level, logger, message, request id, extras."""

    # Attributes every LogRecord has; anything else was passed through ``extra=``.
    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    @override
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send the root logger's records to ``stream`` as JSON lines tagged with ``service``.

    Args:
        service: the service name written on every line.
        level: the minimum level, e.g. "INFO" or "DEBUG".
        stream: where to write; stderr when None.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
