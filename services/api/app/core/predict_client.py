"""The api service's HTTP client for the predict service: pooled (aiohttp), timed out, retried on connection errors."""

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from services import logs
from services.api.app.core.config import Settings
from services.api.app.core.metrics import ApiMetrics

logger = logging.getLogger(__name__)


class PredictCallError(Exception):
    """A call to the predict service did not produce a usable answer; ``status`` is what to answer."""

    status = 502

    def __init__(self, detail: str) -> None:
        """Record ``detail``, the reason given to the caller."""
        super().__init__(detail)
        self.detail = detail


class PredictUnavailableError(PredictCallError):
    """The predict service could not be reached (after the retries)."""

    status = 503


class PredictTimeoutError(PredictCallError):
    """The predict service did not answer in time."""

    status = 504


@dataclass(frozen=True)
class PredictAnswer:
    """The predict service's answer, read in full: status code and body bytes."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        """The body as text (invalid UTF-8 replaced)."""
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            ValueError: when it is not JSON.
        """
        return json.loads(self.content)


# Errors where the request never reached a live predict process (refused connection, or a
# pooled keep-alive connection the server had already closed). Predictions are idempotent,
# so these are retried; timeouts are not: a slow service should not be asked twice.
_CONNECTION_ERRORS = (aiohttp.ClientConnectionError,)
_TIMEOUTS = (TimeoutError, aiohttp.ServerTimeoutError)


class PredictClient:
    """Calls the predict service with one shared aiohttp connection pool.

    aiohttp rather than httpx: httpx/httpcore scan their whole pool on every request
    (``AsyncConnectionPool._assign_requests_to_connections``), which cost the api 3.7-12 ms of
    CPU per forwarded request at 50 connections; aiohttp's connector keeps idle connections per
    host in a queue. Measured: see services/api/README.md.
    """

    def __init__(self, settings: Settings, metrics: ApiMetrics) -> None:
        """Remember the settings; the session is opened by ``start()`` (it needs the running loop).

        Args:
            settings: predict_url, timeouts, retries and pool sizes.
            metrics: where call latency, errors and retries are counted.
        """
        self.settings = settings
        self.metrics = metrics
        self.base_url = settings.predict_url.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool (no connection is made until the first call)."""
        connector = aiohttp.TCPConnector(
            limit=self.settings.predict_max_connections,
            limit_per_host=self.settings.predict_max_connections,
            keepalive_timeout=30.0,
            enable_cleanup_closed=False,
            ttl_dns_cache=300,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.settings.predict_timeout_seconds),
            # The api forwards bodies and answers unchanged: no cookies, no automatic decompression.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _once(self, method: str, url: str, content: bytes | None, headers: dict, timeout) -> PredictAnswer:
        if self.session is None:
            raise RuntimeError("PredictClient.start() was not awaited")
        # aiohttp reads an explicit timeout=None as "no timeout": pass one only to override the session's.
        extra = {} if timeout is None else {"timeout": timeout}
        async with self.session.request(method, url, data=content, headers=headers, **extra) as response:
            return PredictAnswer(response.status, await response.read())

    async def call(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> PredictAnswer:
        """Send one request to the predict service and return its answer, whatever its status.

        Args:
            method: HTTP method.
            path: path on the predict service, e.g. "/v1/predict".
            content: the body to send as JSON, unchanged.
            timeout: overrides the configured timeout for this call.
            retries: overrides the configured retries after a connection error.

        Raises:
            PredictUnavailableError: connection refused/closed on every attempt.
            PredictTimeoutError: no answer within the timeout.
            PredictCallError: any other transport failure.
        """
        headers = {"Content-Type": "application/json"}
        if (rid := logs.request_id.get()) is not None:
            headers[logs.REQUEST_ID_HEADER] = rid
        limit = timeout if timeout is not None else self.settings.predict_timeout_seconds
        per_call = aiohttp.ClientTimeout(total=timeout) if timeout is not None else None
        attempts = (self.settings.predict_retries if retries is None else retries) + 1
        url = self.base_url + path
        started = time.perf_counter()
        for attempt in range(1, attempts + 1):
            try:
                answer = await self._once(method, url, content, headers, per_call)
            except _TIMEOUTS as error:
                self.metrics.upstream_errors.labels(kind="timeout").inc()
                raise PredictTimeoutError(
                    f"predict service did not answer within {limit:g}s ({type(error).__name__})"
                ) from error
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
            except aiohttp.ClientError as error:
                self.metrics.upstream_errors.labels(kind="bad_gateway").inc()
                raise PredictCallError(f"call to predict service failed: {type(error).__name__}: {error}") from error
            self.metrics.upstream_latency.observe(time.perf_counter() - started)
            return answer
        raise AssertionError("unreachable")  # the loop always returns or raises
