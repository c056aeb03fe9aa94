"""Fixtures for the api unit tests: settings, a stand-in predict upstream and a client of the api app."""

import httpx
import pytest
from fastapi.testclient import TestClient

from services.api.app.core.config import Settings
from services.api.app.main import create_app
from services.api.tests.support import Upstream

API_KEY = "test-key-0123456789"


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def make_client(upstream):
    """Return a function building a TestClient of the api app (lifespan run) from settings overrides."""
    clients = []

    def make(transport: httpx.AsyncBaseTransport | None = "upstream", **overrides) -> TestClient:
        values = {
            "api_key": API_KEY,
            "predict_url": "http://predict.test",
            "predict_retry_backoff_seconds": 0.0,
            "access_log": False,
            **overrides,
        }
        if transport == "upstream":
            transport = httpx.ASGITransport(app=upstream)
        client = TestClient(create_app(Settings(**values), predict_transport=transport))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": API_KEY}
