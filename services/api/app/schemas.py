"""The public api's own answer shapes; the prediction shapes are in services/prediction_schemas.py."""

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """An error answer: what went wrong, in words."""

    detail: Any


class Readiness(BaseModel):
    """Whether the api can serve predictions (it needs a ready predict service), and why not."""

    status: str
    reason: str | None = None
    predict: dict[str, Any] | None = None
