"""Builds the predict service's FastAPI app."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.middleware import RequestContextMiddleware
from services.predict.app.api.routes import health, metrics, model, predict
from services.predict.app.core.config import Settings, get_settings
from services.predict.app.core.metrics import PredictMetrics
from services.predict.app.core.model import ModelService

logger = logging.getLogger(__name__)

KNOWN_PATHS = frozenset({"/v1/predict", "/v1/model", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the model is loaded when the app starts (lifespan), not here.

    Args:
        settings: the settings to use; ``get_settings()`` when None.
    """
    settings = settings or get_settings()
    metrics_ = PredictMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = ModelService(settings.model_dir, metrics_, settings.max_rows_per_call, settings.model_threads)
        # A missing or broken model leaves the service up but unready (readyz says why).
        service.load()
        await service.start()
        app.state.model_service = service
        logger.info("predict service started", extra={"ready": service.ready})
        try:
            yield
        finally:
            await service.stop()
            logger.info("predict service stopped")

    app = FastAPI(
        title="predict",
        description="Scores California housing records with the trained model.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics_
    for module in (predict, model, health, metrics):
        app.include_router(module.router)
    app.add_middleware(
        RequestContextMiddleware,
        observe=metrics_.observe_request,
        known_paths=KNOWN_PATHS,
        access_log=settings.access_log,
    )
    return app
