"""Builds the predict service's FastAPI app."""

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.predict.app.api.routes import health, model, predict
from services.predict.app.core.config import Settings, get_settings
from services.predict.app.core.metrics import PredictMetrics
from services.predict.app.core.model import ModelService
from services.prediction_schemas import request_schemas
from services.scaffold import create_service_app

logger = logging.getLogger(__name__)


async def _request_schemas(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The request body's schema from the loaded model's signature (any numbers while none is loaded)."""
    service: ModelService | None = getattr(app.state, "model_service", None)
    inputs = service.signature.get("inputs") if service is not None and service.ready else None
    return request_schemas(inputs, app.state.settings.max_batch_size)


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

    return create_service_app(
        title="predict",
        description="Scores California housing records with the trained model.",
        settings=settings,
        metrics=metrics_,
        routers=[predict.router, model.router, health.router],
        lifespan=lifespan,
        openapi_schemas=_request_schemas,
    )
