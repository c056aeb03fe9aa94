"""Dependencies the predict routes share: the model service and metrics of the running app.

All are ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool, and those
thread hops cost about a third of predict's CPU per request (measured with py-spy).
"""

from fastapi import Request

from services.predict.app.core.config import Settings
from services.predict.app.core.metrics import PredictMetrics
from services.predict.app.core.model import ModelService


async def get_model_service(request: Request) -> ModelService:
    """The app's model service (created by the lifespan)."""
    return request.app.state.model_service


async def get_metrics(request: Request) -> PredictMetrics:
    """The app's metrics."""
    return request.app.state.metrics


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings
