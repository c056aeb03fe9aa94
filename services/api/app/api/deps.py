"""Dependencies the api routes share: the predict client, metrics and the API key check."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from services.api.app.core.predict_client import PredictClient

API_KEY_HEADER = "X-API-Key"
# The security scheme's name in the OpenAPI document (FastAPI names it after the class).
API_KEY_SCHEME = "APIKeyHeader"

# auto_error=False: a missing key is answered by require_api_key with our own 401 body.
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="the service's API key")


# async def: FastAPI runs a plain def dependency in its thread pool (a thread hop per request).
async def get_predict_client(request: Request) -> PredictClient:
    """The app's client for the predict service (created by the lifespan)."""
    return request.app.state.predict_client


def api_key_refusal(request: Request, provided: str | None) -> HTTPException | None:
    """The 401 to answer unless ``provided`` (the request's X-API-Key) is the configured key; None when it is.

    Counted in the auth failure metric. Raised by ``require_api_key`` and, without FastAPI's
    dependency solving, by the prediction route.
    """
    if not provided:
        request.app.state.metrics.auth_failures.inc()
        return HTTPException(
            401,
            detail=f"missing API key: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    # Constant-time comparison: the answer time must not reveal how much of the key matched.
    expected: str = request.app.state.api_key
    if not hmac.compare_digest(provided.encode(), expected.encode()):
        request.app.state.metrics.auth_failures.inc()
        return HTTPException(401, detail="invalid API key", headers={"WWW-Authenticate": API_KEY_HEADER})
    return None


async def require_api_key(request: Request, provided: Annotated[str | None, Depends(_api_key_header)]) -> None:
    """Refuse the request with 401 unless it carries the configured API key (the scheme in the OpenAPI document)."""
    if (refusal := api_key_refusal(request, provided)) is not None:
        raise refusal
