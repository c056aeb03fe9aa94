"""GET /readyz: a model is loaded and predicting (GET /healthz is the scaffold's)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from services.predict.app.api.deps import get_model_service
from services.predict.app.core.model import ModelService
from services.predict.app.schemas import Readiness

router = APIRouter(tags=["health"])

# How long readiness waits for its probe prediction before calling the model unresponsive.
PROBE_TIMEOUT_SECONDS = 2.0


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(service: Annotated[ModelService, Depends(get_model_service)]) -> JSONResponse:
    """Readiness: a model is loaded and answers a probe record; otherwise 503 with the reason."""
    if not service.ready:
        return JSONResponse({"status": "not ready", "reason": service.reason}, status_code=503)
    try:
        probe = service.probe_matrix(service.validator)
        await asyncio.wait_for(service.predict(probe), PROBE_TIMEOUT_SECONDS)
    except TimeoutError:
        reason = f"model did not answer a probe within {PROBE_TIMEOUT_SECONDS:g}s"
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    except Exception as error:  # noqa: BLE001 - any failure is the reason for not being ready
        reason = f"probe prediction failed: {type(error).__name__}: {error}"
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "model_version": service.version})
