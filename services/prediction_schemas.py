"""The prediction request and response shapes both services speak (api forwards them to predict)."""

from typing import Any

from pydantic import BaseModel


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


# Where the OpenAPI document of each service finds the request body of POST /v1/predict.
PREDICT_REQUEST_REF = {"$ref": "#/components/schemas/PredictRequest"}


def request_schemas(inputs: list[dict[str, Any]] | None, max_batch_size: int) -> dict[str, dict[str, Any]]:
    """The OpenAPI component schemas of POST /v1/predict's body, from the model signature's inputs.

    Each record is an object with exactly the signature's fields: the required ones listed as
    such, each a number within the input's range (optional fields may also be null); nothing else
    is allowed. A batch is ``{"records": [...]}`` with 1 to ``max_batch_size`` records.

    Args:
        inputs: the signature's "inputs" (name, minimum, maximum, required, description), or None
            while no model is known: records are then any object of numbers.
        max_batch_size: the most records one request may carry.
    """
    if inputs is None:
        record: dict[str, Any] = {
            "type": "object",
            "additionalProperties": {"type": ["number", "null"]},
            "description": "the model's inputs by name (no model is loaded yet: see GET /v1/model)",
        }
    else:
        properties = {}
        for item in inputs:
            field: dict[str, Any] = {"type": "number" if item.get("required", True) else ["number", "null"]}
            if item.get("minimum") is not None:
                field["minimum"] = item["minimum"]
            if item.get("maximum") is not None:
                field["maximum"] = item["maximum"]
            if item.get("description"):
                field["description"] = item["description"]
            properties[item["name"]] = field
        record = {
            "type": "object",
            "properties": properties,
            "required": [item["name"] for item in inputs if item.get("required", True)],
            "additionalProperties": False,
        }
    record["title"] = "PredictRecord"
    batch = {
        "title": "PredictBatch",
        "type": "object",
        "properties": {
            "records": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/PredictRecord"},
                "minItems": 1,
                "maxItems": max_batch_size,
            }
        },
        "required": ["records"],
        "additionalProperties": False,
    }
    body = {
        "title": "PredictRequest",
        "description": 'one record, or {"records": [...]} for a batch',
        "oneOf": [{"$ref": "#/components/schemas/PredictRecord"}, {"$ref": "#/components/schemas/PredictBatch"}],
    }
    return {"PredictRecord": record, "PredictBatch": batch, "PredictRequest": body}
