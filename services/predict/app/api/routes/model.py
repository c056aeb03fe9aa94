"""GET /v1/model: what the loaded model is and what it expects."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from services.predict.app.api.deps import get_model_service
from services.predict.app.core.model import ModelService
from services.predict.app.schemas import ModelInfo, Problem

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/model", response_model=ModelInfo, responses={503: {"model": Problem}})
async def model_info(service: Annotated[ModelService, Depends(get_model_service)]) -> ModelInfo:
    """The model's name, version, test metrics, data hash and input schema."""
    if not service.ready:
        raise HTTPException(status_code=503, detail=f"model not available: {service.reason}")
    signature = service.signature
    return ModelInfo(
        model_name=service.name,
        model_version=service.version,
        data_hash=signature.get("data_hash"),
        metrics=signature.get("metrics", {}),
        inputs=signature.get("inputs", []),
        model_features=signature.get("model_features", []),
        target=signature.get("target", {}),
    )
