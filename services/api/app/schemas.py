"""Request and response shapes of the public api (for validation and the OpenAPI document)."""

from typing import Any

from pydantic import BaseModel

# The shapes shared with the other service, re-exported for this service's routes.
from services.prediction_schemas import PREDICT_REQUEST_REF as PREDICT_REQUEST_REF
from services.prediction_schemas import BatchResponse as BatchResponse
from services.prediction_schemas import SingleResponse as SingleResponse


class Problem(BaseModel):
    """An error answer: what went wrong, in words."""

    detail: Any


class Readiness(BaseModel):
    """Whether the api can serve predictions (it needs a ready predict service), and why not."""

    status: str
    reason: str | None = None
    predict: dict[str, Any] | None = None
