"""The prediction request and response shapes both services speak (api forwards them to predict)."""

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


# The body POST /v1/predict accepts, for the OpenAPI document: one record or a batch.
PREDICT_REQUEST_SCHEMA = {
    "oneOf": [
        {"type": "object", "additionalProperties": {"type": "number"}, "title": "Record"},
        BatchRequest.model_json_schema(),
    ]
}
