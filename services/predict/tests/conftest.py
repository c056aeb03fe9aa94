"""Fixtures for the predict unit tests: a real small model on disk and TestClients of the app."""

import pytest
from fastapi.testclient import TestClient

from services.predict.app.core.config import Settings
from services.predict.app.main import create_app
from services.predict.tests.support import write_model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A directory with model.skops and signature.json of a model trained on synthetic data."""
    return write_model(tmp_path_factory.mktemp("model"))


@pytest.fixture
def make_client(model_dir):
    """Return a function building a started TestClient of the predict app from settings overrides."""
    clients = []

    def make(**overrides) -> TestClient:
        values = {"model_dir": model_dir, "access_log": False, **overrides}
        client = TestClient(create_app(Settings(**values)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
