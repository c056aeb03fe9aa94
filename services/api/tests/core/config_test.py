"""Unit tests of the api settings and where the API key comes from."""

import pytest
from fastapi.testclient import TestClient

from services.api.app.core.config import ApiKeyMissingError, Settings, get_settings, resolve_api_key
from services.api.app.main import create_app
from tools.ports import free_port


def test_settings_come_from_api_prefixed_environment(monkeypatch):
    monkeypatch.setenv("API_PORT", "9100")
    monkeypatch.setenv("API_PREDICT_URL", "http://predict:8001")
    monkeypatch.setenv("PREDICT_PORT", "1")  # another service's prefix is ignored
    settings = Settings()
    assert (settings.port, settings.predict_url, settings.host) == (9100, "http://predict:8001", "0.0.0.0")


def test_get_settings_is_cached_and_read_lazily(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("API_PORT", "9200")
    try:
        assert get_settings() is get_settings()
        assert get_settings().port == 9200
    finally:
        get_settings.cache_clear()


def test_key_from_secret_file_wins_and_is_stripped(tmp_path):
    secret = tmp_path / "api-key"
    secret.write_text("from-file\n")
    assert resolve_api_key(Settings(api_key="from-env", api_key_file=secret)) == "from-file"
    assert resolve_api_key(Settings(api_key="from-env")) == "from-env"


def test_key_is_not_shown_in_settings_repr():
    assert "hunter2" not in repr(Settings(api_key="hunter2"))


@pytest.mark.parametrize("content", [None, ""])
def test_missing_or_empty_key_file_is_refused(tmp_path, content):
    secret = tmp_path / "api-key"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(ApiKeyMissingError):
        resolve_api_key(Settings(api_key_file=secret))


def test_app_refuses_to_start_without_a_key():
    with pytest.raises(ApiKeyMissingError, match="no API key configured"), TestClient(create_app(Settings())):
        pass


def test_key_file_is_used_by_the_app(tmp_path):
    secret = tmp_path / "api-key"
    secret.write_text("file-key")
    with TestClient(
        create_app(
            Settings(
                api_key_file=secret, access_log=False, predict_url=f"http://127.0.0.1:{free_port()}", predict_retries=0
            )
        )
    ) as client:
        assert client.get("/v1/model", headers={"X-API-Key": "wrong"}).status_code == 401
        # Accepted by auth; the predict service is absent, so the failure is an upstream one.
        assert client.get("/v1/model", headers={"X-API-Key": "file-key"}).status_code != 401


def test_empty_variables_mean_unset(monkeypatch):
    monkeypatch.setenv("API_API_KEY_FILE", "")
    monkeypatch.setenv("API_API_KEY", "")
    settings = Settings()
    assert settings.api_key_file is None
    assert settings.api_key is None
    with pytest.raises(ApiKeyMissingError, match="no API key configured"):
        resolve_api_key(settings)
