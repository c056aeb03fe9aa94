"""POST /v1/predict: score one record or a batch."""

import json
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from services.predict.app.api.deps import get_app_settings, get_metrics, get_model_service
from services.predict.app.core.config import Settings
from services.predict.app.core.metrics import PredictMetrics
from services.predict.app.core.model import ModelService, ModelUnavailableError
from services.predict.app.core.validation import RecordValidationError
from services.predict.app.schemas import Problem, ValidationErrorResponse
from services.prediction_schemas import PREDICT_REQUEST_SCHEMA, BatchResponse, SingleResponse

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["predict"])


def _json(status: int, payload: object) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


def _invalid(errors: list[dict], total: int | None = None) -> Response:
    return _json(422, {"detail": errors, "error_count": len(errors) if total is None else total})


@router.post(
    "/predict",
    summary="Predict MedHouseVal for one record or a batch",
    description=(
        "Body: one record (an object of the model's inputs, see GET /v1/model) or "
        '{"records": [record, ...]} with at most the configured batch size. Every field is checked '
        "against the model signature (numbers only, required fields, plausible ranges); any problem "
        "gives 422 listing each field at fault."
    ),
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": PREDICT_REQUEST_SCHEMA}}}
    },
    responses={
        200: {"model": SingleResponse | BatchResponse},
        413: {"model": Problem},
        422: {"model": ValidationErrorResponse},
        500: {"model": Problem},
        503: {"model": Problem},
    },
)
async def predict(
    request: Request,
    service: Annotated[ModelService, Depends(get_model_service)],
    metrics: Annotated[PredictMetrics, Depends(get_metrics)],
    settings: Annotated[Settings, Depends(get_app_settings)],
) -> Response:
    """Validate the body against the signature and answer the model's predictions."""
    # The body is parsed by hand (not by a pydantic model) so a 1,000-record batch is checked
    # column by column in numpy instead of object by object.
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > settings.max_body_bytes:
        metrics.errors.labels(kind="too_large").inc()
        return _json(413, {"detail": f"request body larger than {settings.max_body_bytes} bytes"})
    body = await request.body()
    if len(body) > settings.max_body_bytes:
        metrics.errors.labels(kind="too_large").inc()
        return _json(413, {"detail": f"request body larger than {settings.max_body_bytes} bytes"})
    try:
        payload = json.loads(body)
    except ValueError as error:
        metrics.errors.labels(kind="bad_request").inc()
        return _invalid([{"loc": ["body"], "type": "json_invalid", "msg": f"body is not valid JSON: {error}"}])

    if not service.ready:
        metrics.errors.labels(kind="model_unavailable").inc()
        return _json(503, {"detail": f"model not available: {service.reason}"})

    single = not (isinstance(payload, dict) and "records" in payload)
    if single:
        if not isinstance(payload, dict):
            metrics.errors.labels(kind="bad_request").inc()
            return _invalid(
                [{"loc": ["body"], "type": "dict_type", "msg": 'body must be a record object or {"records": [...]}'}]
            )
        records, loc = [payload], ("body",)
    else:
        records, loc = payload["records"], ("body", "records")
        extra = sorted(set(payload) - {"records"})
        if extra:
            metrics.errors.labels(kind="bad_request").inc()
            return _invalid(
                [{"loc": ["body", key], "type": "extra_forbidden", "msg": "unknown field"} for key in extra]
            )
        if not isinstance(records, list) or not records:
            metrics.errors.labels(kind="bad_request").inc()
            return _invalid([{"loc": list(loc), "type": "list_type", "msg": "records must be a non-empty list"}])
        if len(records) > settings.max_batch_size:
            metrics.errors.labels(kind="bad_request").inc()
            return _invalid(
                [
                    {
                        "loc": list(loc),
                        "type": "too_long",
                        "msg": f"at most {settings.max_batch_size} records per request, got {len(records)}",
                    }
                ]
            )
    metrics.batch_size.observe(len(records))

    try:
        matrix = service.validator.validate(records, loc=loc)
    except RecordValidationError as error:
        metrics.errors.labels(kind="validation").inc()
        if single:  # a lone record has no index: drop it from each location
            for item in error.errors:
                del item["loc"][1]
        return _invalid(error.errors, error.total)

    try:
        values = await service.predict(matrix)
    except ModelUnavailableError as error:
        metrics.errors.labels(kind="model_unavailable").inc()
        return _json(503, {"detail": f"model not available: {error}"})
    except Exception:
        metrics.errors.labels(kind="model_failure").inc()
        logger.exception("prediction failed", extra={"rows": len(records)})
        return _json(500, {"detail": "the model failed to predict; see the service log"})

    head = {"model_name": service.name, "model_version": service.version}
    if single:
        return _json(200, {**head, "prediction": float(values[0])})
    return _json(200, {**head, "predictions": values.tolist()})
