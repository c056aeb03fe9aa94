"""Builds the public api service's FastAPI app."""

import logging
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from services.api.app.api.routes import health, predict
from services.api.app.core.coalescer import PredictCoalescer
from services.api.app.core.config import ApiKeyMissingError, Settings, get_settings, resolve_api_key
from services.api.app.core.metrics import ApiMetrics
from services.api.app.core.predict_client import PredictCallError, PredictClient
from services.prediction_schemas import request_schemas
from services.scaffold import create_service_app

logger = logging.getLogger(__name__)


async def _request_schemas(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The request body's schema from the model predict serves (fetched once; any numbers until then).

    The api validates nothing field by field itself (predict does), so its document states what
    predict's signature says, asked of predict when the document is first wanted.
    """
    settings: Settings = app.state.settings
    if getattr(app.state, "model_inputs", None) is None:
        try:
            answer = await app.state.predict_client.call(
                "GET", "/v1/model", timeout=settings.readiness_timeout_seconds, retries=0
            )
            if answer.status_code == HTTPStatus.OK:
                app.state.model_inputs = answer.json()["inputs"]
        except (PredictCallError, ValueError, KeyError, TypeError) as error:
            logger.info("no model signature from predict yet", extra={"error": str(error)})
    return request_schemas(getattr(app.state, "model_inputs", None), settings.max_batch_size)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the API key is read and the predict client opened when the app starts.

    Args:
        settings: the settings to use; ``get_settings()`` when None.
    """
    settings = settings or get_settings()
    metrics_ = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Without a key the service must not start: failing here stops uvicorn with the reason.
        try:
            app.state.api_key = resolve_api_key(settings)
        except ApiKeyMissingError as error:
            logger.error("cannot start: %s", error)
            raise
        app.state.predict_client = PredictClient(settings, metrics_)
        await app.state.predict_client.start()
        app.state.predict_coalescer = PredictCoalescer(
            app.state.predict_client,
            max_records=min(settings.predict_coalesce_max_records, settings.max_batch_size),
            max_in_flight=settings.predict_max_in_flight,
            max_batch_bytes=settings.max_body_bytes,
        )
        logger.info("api service started", extra={"predict_url": settings.predict_url})
        try:
            yield
        finally:
            await app.state.predict_client.aclose()
            logger.info("api service stopped")

    return create_service_app(
        title="api",
        description="Public entry point: API-key protected predictions of California house values.",
        settings=settings,
        metrics=metrics_,
        routers=[predict.router, health.router],
        lifespan=lifespan,
        openapi_schemas=_request_schemas,
    )
