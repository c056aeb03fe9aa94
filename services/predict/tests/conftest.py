"""Fixtures for the predict unit tests: a real small model on disk and TestClients of the app."""

import pytest

from services.predict.app.core.config import Settings
from services.predict.app.main import create_app
from services.predict.tests.support import write_model
from services.testing import client_factory


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A directory with model.skops and signature.json of a model trained on synthetic data."""
    return write_model(tmp_path_factory.mktemp("model"))


@pytest.fixture
def make_client(model_dir):
    """Return a function building a started TestClient of the predict app from settings overrides."""
    defaults = {"model_dir": model_dir, "access_log": False}
    with client_factory(lambda **overrides: create_app(Settings(**{**defaults, **overrides}))) as make:
        yield make


@pytest.fixture
def client(make_client):
    return make_client()
