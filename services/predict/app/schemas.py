"""Request and response shapes of the predict service (used for validation of answers and for OpenAPI)."""

from typing import Any

from pydantic import BaseModel, Field

# A record: the model's raw inputs by name (see GET /v1/model for names and ranges).
Record = dict[str, float | None]


class BatchRequest(BaseModel):
    """A batch of records."""

    records: list[Record] = Field(description="records to score, each an object of the model's inputs")


class SingleResponse(BaseModel):
    """The prediction for one record."""

    model_name: str
    model_version: str
    prediction: float


class BatchResponse(BaseModel):
    """One prediction per record, in request order."""

    model_name: str
    model_version: str
    predictions: list[float]


class ErrorDetail(BaseModel):
    """One problem with the request: where it is (loc), its kind and an explanation."""

    loc: list[str | int]
    type: str
    msg: str


class ValidationErrorResponse(BaseModel):
    """A 422 answer: every problem found (up to a limit) and how many there were."""

    detail: list[ErrorDetail]
    error_count: int


class Problem(BaseModel):
    """Any other error answer."""

    detail: str


class ModelInfo(BaseModel):
    """What the loaded model is and what it expects."""

    model_config = {"protected_namespaces": ()}

    model_name: str
    model_version: str
    data_hash: str | None = None
    metrics: dict[str, Any] = {}
    inputs: list[dict[str, Any]]
    model_features: list[str] = []
    target: dict[str, Any] = {}


class Readiness(BaseModel):
    """Whether the service can answer predictions, and why not."""

    status: str
    reason: str | None = None
    model_version: str | None = None


# The body POST /v1/predict accepts, for the OpenAPI document: one record or a batch.
PREDICT_REQUEST_SCHEMA = {
    "oneOf": [
        {"type": "object", "additionalProperties": {"type": "number"}, "title": "Record"},
        BatchRequest.model_json_schema(),
    ]
}
