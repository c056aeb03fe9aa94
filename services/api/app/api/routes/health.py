"""GET /readyz: the predict service is ready (GET /healthz is the scaffold's)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.api.app.api.deps import get_predict_client
from services.api.app.core.predict_client import PredictCallError, PredictClient
from services.api.app.schemas import Readiness

router = APIRouter(tags=["health"])


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request, client: Annotated[PredictClient, Depends(get_predict_client)]) -> JSONResponse:
    """Readiness: the predict service answers its own /readyz with 200; otherwise 503 and why."""
    timeout = request.app.state.settings.readiness_timeout_seconds
    try:
        upstream = await client.call("GET", "/readyz", timeout=timeout)
    except PredictCallError as error:
        return JSONResponse({"status": "not ready", "reason": error.detail}, status_code=503)
    try:
        body = upstream.json()
    except ValueError:
        body = {"raw": upstream.text[:500]}
    if upstream.status_code != 200:
        reason = f"predict service not ready (HTTP {upstream.status_code}): {body.get('reason', body)}"
        return JSONResponse({"status": "not ready", "reason": reason, "predict": body}, status_code=503)
    return JSONResponse({"status": "ready", "predict": body})
