"""GET /metrics: Prometheus exposition of the api's metrics."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api.app.api.deps import get_metrics
from services.api.app.core.metrics import ApiMetrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
async def metrics(registry: Annotated[ApiMetrics, Depends(get_metrics)]) -> Response:
    """Requests, latency, auth failures and the calls to the predict service."""
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
