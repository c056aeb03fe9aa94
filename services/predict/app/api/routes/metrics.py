"""GET /metrics: Prometheus exposition of the service's metrics."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.predict.app.api.deps import get_metrics
from services.predict.app.core.metrics import PredictMetrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
async def metrics(registry: Annotated[PredictMetrics, Depends(get_metrics)]) -> Response:
    """Requests, latency, errors, batch sizes, model calls and the distribution of predictions."""
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
