"""Unit tests of the predict settings."""

from pathlib import Path

from services.predict.app.core.config import Settings, get_settings


def test_settings_come_from_predict_prefixed_environment(monkeypatch):
    monkeypatch.setenv("PREDICT_PORT", "9101")
    monkeypatch.setenv("PREDICT_MODEL_DIR", "/srv/model")
    monkeypatch.setenv("PREDICT_MAX_BATCH_SIZE", "50")
    monkeypatch.setenv("API_PORT", "1")  # another service's prefix is ignored
    settings = Settings()
    assert (settings.port, settings.model_dir, settings.max_batch_size) == (9101, Path("/srv/model"), 50)


def test_defaults():
    settings = Settings()
    assert (settings.host, settings.port, settings.max_batch_size) == ("0.0.0.0", 8001, 1000)


def test_get_settings_is_cached_and_read_lazily(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("PREDICT_PORT", "9300")
    try:
        assert get_settings() is get_settings()
        assert get_settings().port == 9300
    finally:
        get_settings.cache_clear()


def test_empty_model_dir_means_unset(monkeypatch):
    monkeypatch.setenv("PREDICT_MODEL_DIR", "")
    assert Settings().model_dir is None
