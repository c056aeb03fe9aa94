"""Fixtures for the api unit tests: settings, a stand-in predict upstream on loopback and a client of the api app."""

from collections.abc import Iterator

import pytest

from services.api.app.core.config import Settings
from services.api.app.main import create_app
from services.api.tests.support import Upstream
from services.testing import client_factory, served

API_KEY = "test-key-0123456789"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """The stand-in predict service, served by uvicorn on a free 127.0.0.1 port (``upstream.url``)."""
    upstream = Upstream()
    with served(upstream) as url:
        upstream.url = url
        yield upstream


@pytest.fixture
def make_client(upstream):
    """Return a function building a started TestClient of the api app from settings overrides."""
    defaults = {
        "api_key": API_KEY,
        "predict_url": upstream.url,
        "predict_retry_backoff_seconds": 0.0,
        "access_log": False,
    }
    with client_factory(lambda **overrides: create_app(Settings(**{**defaults, **overrides}))) as make:
        yield make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": API_KEY}
