"""Request and response shapes of the public api (for validation and the OpenAPI document)."""

from typing import Any

from pydantic import BaseModel, Field

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


class Problem(BaseModel):
    """An error answer: what went wrong, in words."""

    detail: Any


class Readiness(BaseModel):
    """Whether the api can serve predictions (it needs a ready predict service), and why not."""

    status: str
    reason: str | None = None
    predict: dict[str, Any] | None = None


PREDICT_REQUEST_SCHEMA = {
    "oneOf": [
        {"type": "object", "additionalProperties": {"type": "number"}, "title": "Record"},
        BatchRequest.model_json_schema(),
    ]
}
