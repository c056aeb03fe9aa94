"""The predict service's own answer shapes; the prediction shapes are in services/prediction_schemas.py."""

from typing import Any

from pydantic import BaseModel


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
