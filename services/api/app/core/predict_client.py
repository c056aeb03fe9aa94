"""The api service's HTTP client for the predict service: pooled, timed out, retried on connection errors."""

import asyncio
import importlib.util
import logging
import sys
import time

import httpx

from services import logs
from services.api.app.core.config import Settings
from services.api.app.core.metrics import ApiMetrics

logger = logging.getLogger(__name__)


class PredictCallError(Exception):
    """A call to the predict service did not produce a usable answer; ``status`` is what to answer."""

    status = 502

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PredictUnavailableError(PredictCallError):
    """The predict service could not be reached (after the retries)."""

    status = 503


class PredictTimeoutError(PredictCallError):
    """The predict service did not answer in time."""

    status = 504


# Errors where the request never reached a live predict process (refused connection, or a
# pooled keep-alive connection the server had already closed). Predictions are idempotent,
# so these are retried; timeouts are not: a slow service should not be asked twice.
_CONNECTION_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError)


def _skip_missing_sniffio() -> None:
    """Make httpcore's per-request ``import sniffio`` fail fast when sniffio is not installed.

    httpcore tries that import every time it creates a lock (several times per request). A
    failed import is not cached: each one scans every sys.path entry, and a Bazel py_binary has
    one entry per third-party package. Profiled here: ~2,000 failed path scans per 200 requests,
    ~10 ms of CPU per forwarded request. A None entry in sys.modules makes the import raise
    ImportError at once, which is what httpcore expects when sniffio is absent (it then assumes
    asyncio, the only loop these services run).
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None


class PredictClient:
    """Calls the predict service with one shared connection pool."""

    def __init__(self, settings: Settings, metrics: ApiMetrics, transport: httpx.AsyncBaseTransport | None = None):
        """Create the client (no connection is opened until the first call).

        Args:
            settings: predict_url, timeouts, retries and pool sizes.
            metrics: where call latency, errors and retries are counted.
            transport: an httpx transport to use instead of the network (for in-process tests).
        """
        self.settings = settings
        self.metrics = metrics
        _skip_missing_sniffio()
        self.client = httpx.AsyncClient(
            base_url=settings.predict_url,
            timeout=httpx.Timeout(settings.predict_timeout_seconds),
            limits=httpx.Limits(
                max_connections=settings.predict_max_connections,
                max_keepalive_connections=settings.predict_max_keepalive,
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()

    async def call(
        self, method: str, path: str, content: bytes | None = None, timeout: float | None = None
    ) -> httpx.Response:
        """Send one request to the predict service and return its answer, whatever its status.

        Args:
            method: HTTP method.
            path: path on the predict service, e.g. "/v1/predict".
            content: the body to send as JSON, unchanged.
            timeout: overrides the configured timeout for this call.

        Raises:
            PredictUnavailableError: connection refused/closed on every attempt.
            PredictTimeoutError: no answer within the timeout.
            PredictCallError: any other transport failure.
        """
        headers = {"content-type": "application/json"}
        if (rid := logs.request_id.get()) is not None:
            headers[logs.REQUEST_ID_HEADER] = rid
        attempts = self.settings.predict_retries + 1
        started = time.perf_counter()
        for attempt in range(1, attempts + 1):
            try:
                response = await self.client.request(
                    method,
                    path,
                    content=content,
                    headers=headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except _CONNECTION_ERRORS as error:
                if attempt < attempts:
                    self.metrics.upstream_retries.inc()
                    logger.warning(
                        "predict connection failed, retrying", extra={"attempt": attempt, "error": str(error)}
                    )
                    await asyncio.sleep(self.settings.predict_retry_backoff_seconds * attempt)
                    continue
                self.metrics.upstream_errors.labels(kind="unavailable").inc()
                raise PredictUnavailableError(
                    f"predict service unreachable at {self.settings.predict_url} after {attempts} attempt(s): "
                    f"{type(error).__name__}: {error}"
                ) from error
            except httpx.TimeoutException as error:
                self.metrics.upstream_errors.labels(kind="timeout").inc()
                limit = timeout if timeout is not None else self.settings.predict_timeout_seconds
                raise PredictTimeoutError(
                    f"predict service did not answer within {limit:g}s ({type(error).__name__})"
                ) from error
            except httpx.HTTPError as error:
                self.metrics.upstream_errors.labels(kind="bad_gateway").inc()
                raise PredictCallError(f"call to predict service failed: {type(error).__name__}: {error}") from error
            self.metrics.upstream_latency.observe(time.perf_counter() - started)
            return response
        raise AssertionError("unreachable")  # the loop always returns or raises
