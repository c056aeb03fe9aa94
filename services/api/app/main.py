"""Builds the public api service's FastAPI app."""

import logging
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.api.app.api.routes import health, metrics, predict
from services.api.app.core.config import ApiKeyMissingError, Settings, get_settings, resolve_api_key
from services.api.app.core.metrics import ApiMetrics
from services.api.app.core.predict_client import PredictClient
from services.middleware import RequestContextMiddleware

logger = logging.getLogger(__name__)

KNOWN_PATHS = frozenset({"/v1/predict", "/v1/model", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"})


def create_app(settings: Settings | None = None, predict_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the app; the API key is read and the predict client created when the app starts.

    Args:
        settings: the settings to use; ``get_settings()`` when None.
        predict_transport: an httpx transport for the predict client instead of the network
            (tests route it to an in-process predict app).
    """
    settings = settings or get_settings()
    # httpx logs every request at INFO; the access log already has one line per request.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    metrics_ = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Without a key the service must not start: failing here stops uvicorn with the reason.
        try:
            app.state.api_key = resolve_api_key(settings)
        except ApiKeyMissingError as error:
            logger.error("cannot start: %s", error)
            raise
        app.state.predict_client = PredictClient(settings, metrics_, transport=predict_transport)
        logger.info("api service started", extra={"predict_url": settings.predict_url})
        try:
            yield
        finally:
            await app.state.predict_client.aclose()
            logger.info("api service stopped")

    app = FastAPI(
        title="api",
        description="Public entry point: API-key protected predictions of California house values.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics_
    for module in (predict, health, metrics):
        app.include_router(module.router)
    app.add_middleware(
        RequestContextMiddleware,
        observe=metrics_.observe_request,
        known_paths=KNOWN_PATHS,
        access_log=settings.access_log,
    )
    return app
