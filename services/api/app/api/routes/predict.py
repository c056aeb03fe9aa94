"""POST /v1/predict and GET /v1/model: the public prediction routes, forwarded to the predict service."""

import json
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from services.api.app.api.deps import (
    API_KEY_HEADER,
    API_KEY_SCHEME,
    api_key_refusal,
    get_predict_client,
    require_api_key,
)
from services.api.app.core.coalescer import PredictCoalescer
from services.api.app.core.predict_client import PredictAnswer, PredictCallError, PredictClient
from services.api.app.schemas import Problem
from services.prediction_schemas import PREDICT_REQUEST_REF, BatchResponse, SingleResponse
from services.scaffold import InvalidJSONError, parse_json

# The API key is checked by a dependency on GET /v1/model and inside POST /v1/predict itself:
# FastAPI's dependency solving for it was 22 % of the api's CPU per forwarded prediction (py-spy).
router = APIRouter(prefix="/v1", tags=["predict"])

_ERRORS = {
    401: {"model": Problem, "description": "missing or wrong API key"},
    502: {"model": Problem, "description": "the predict service failed"},
    503: {"model": Problem, "description": "the predict service is down or not ready"},
    504: {"model": Problem, "description": "the predict service did not answer in time"},
}


def _json(status: int, payload: object) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


def _invalid(loc: list, kind: str, msg: str) -> Response:
    return _json(422, {"detail": [{"loc": loc, "type": kind, "msg": msg}], "error_count": 1})


def _check_shape(body: bytes, max_batch_size: int) -> Response | bool:
    """The api's own checks: JSON, a record object or {"records": [...]} within the batch limit.

    Returns a 422 answer, or whether the body is a lone record (not a batch). Field-level checks
    need the model's signature and are the predict service's (its 422 is passed on unchanged).
    """
    try:
        payload = parse_json(body)
    except InvalidJSONError as error:
        return _invalid(["body"], "json_invalid", str(error))
    if not isinstance(payload, dict):
        return _invalid(["body"], "dict_type", 'body must be a record object or {"records": [...]}')
    if "records" not in payload:
        return True
    records = payload["records"]
    if not isinstance(records, list) or not records:
        return _invalid(["body", "records"], "list_type", "records must be a non-empty list")
    if len(records) > max_batch_size:
        return _invalid(
            ["body", "records"], "too_long", f"at most {max_batch_size} records per request, got {len(records)}"
        )
    return False


async def _forward(client: PredictClient, call: Awaitable[PredictAnswer]) -> Response:
    """The api's answer for predict's: unchanged below 500, 503 when predict is not ready, else 502."""
    try:
        upstream = await call
    except PredictCallError as error:
        return _json(error.status, {"detail": error.detail})
    if upstream.status_code < 500:
        # Answers and client errors (422 with the fields at fault, 413) go back unchanged.
        return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")
    try:
        reason = upstream.json().get("detail", upstream.text)
    except ValueError:
        reason = upstream.text[:500]
    if upstream.status_code == 503:
        return _json(503, {"detail": f"predict service not ready: {reason}"})
    client.metrics.upstream_errors.labels(kind="bad_gateway").inc()
    return _json(502, {"detail": f"predict service failed (HTTP {upstream.status_code}): {reason}"})


@router.post(
    "/predict",
    summary="Predict MedHouseVal for one record or a batch",
    description=(
        'Body: one record (an object of the model\'s inputs, see GET /v1/model) or {"records": [...]}. '
        "Needs the X-API-Key header."
    ),
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": PREDICT_REQUEST_REF}}},
        "security": [{API_KEY_SCHEME: []}],
    },
    responses={
        200: {"model": SingleResponse | BatchResponse},
        413: {"model": Problem, "description": "body larger than the configured limit"},
        415: {"model": Problem, "description": "body not sent as application/json"},
        422: {"model": Problem, "description": "the body is not a valid prediction request"},
        **_ERRORS,
    },
)
async def predict(request: Request) -> Response:
    """Check the request's shape and size, then forward it to the predict service."""
    # The API key and the client without Depends(): dependency solving is a measurable part of
    # this route's CPU per request (see the router's comment).
    if (refusal := api_key_refusal(request, request.headers.get(API_KEY_HEADER))) is not None:
        raise refusal
    client: PredictClient = request.app.state.predict_client
    # Size and Content-Type were checked while the body streamed in (the scaffold's body guard).
    body = await request.body()
    shape = _check_shape(body, request.app.state.settings.max_batch_size)
    if isinstance(shape, Response):
        return shape
    if not shape:  # a batch: forwarded as it is
        return await _forward(client, client.call("POST", "/v1/predict", content=body))
    # A lone record: joined with others that wait for predict (services/api/app/core/coalescer.py).
    coalescer: PredictCoalescer = request.app.state.predict_coalescer
    return await _forward(client, coalescer.predict(body))


@router.get(
    "/model",
    summary="The served model: version, metrics, data hash, inputs",
    responses=_ERRORS,
    dependencies=[Depends(require_api_key)],
)
async def model(client: Annotated[PredictClient, Depends(get_predict_client)]) -> Response:
    """The predict service's description of its model."""
    return await _forward(client, client.call("GET", "/v1/model"))
