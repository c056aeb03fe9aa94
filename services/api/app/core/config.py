"""Settings of the public api service, read from API_* environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.scaffold import ServiceSettings


class Settings(ServiceSettings):
    """Everything the api service can be told from outside; env prefix ``API_``.

    The API key comes from ``API_API_KEY`` or, preferably in deployments, from a mounted secret
    file named by ``API_API_KEY_FILE`` (the file wins when both are set). The common settings (host,
    batch and body limits, logging, shutdown) are ServiceSettings'.
    """

    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore")

    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    # Base URL of the predict service.
    predict_url: str = "http://127.0.0.1:8001"
    # Seconds to wait for the predict service's answer (connect, read, write, pool).
    predict_timeout_seconds: float = Field(5.0, gt=0)
    # Extra attempts after a connection error (nothing was processed, so retrying is safe).
    predict_retries: int = Field(2, ge=0, le=10)
    predict_retry_backoff_seconds: float = Field(0.05, ge=0)
    # Connection pool to the predict service.
    predict_max_connections: int = Field(100, ge=1)
    predict_max_keepalive: int = Field(50, ge=0)
    # Lone records that arrive while this many calls to predict are out wait and go together as
    # one batch of at most predict_coalesce_max_records (services/api/app/core/coalescer.py).
    predict_max_in_flight: int = Field(2, ge=1)
    predict_coalesce_max_records: int = Field(64, ge=1)
    readiness_timeout_seconds: float = Field(2.0, gt=0)

    @field_validator("api_key", "api_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        # An empty variable (common in manifests) means "not set", not the path "." or the key "".
        return None if value == "" else value


class ApiKeyMissingError(ValueError):
    """Raised when neither API_API_KEY nor a readable, non-empty API_API_KEY_FILE is configured."""


def resolve_api_key(settings: Settings) -> str:
    """Return the API key from the secret file or the setting.

    Raises:
        ApiKeyMissingError: when no usable key is configured.
    """
    if settings.api_key_file is not None:
        try:
            key = settings.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ApiKeyMissingError(f"cannot read API key file {settings.api_key_file}: {error}") from error
        if not key:
            raise ApiKeyMissingError(f"API key file {settings.api_key_file} is empty")
        return key
    if settings.api_key is not None and settings.api_key.get_secret_value().strip():
        return settings.api_key.get_secret_value().strip()
    raise ApiKeyMissingError("no API key configured: set API_API_KEY_FILE (a secret file) or API_API_KEY")


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read from the environment once, on first use."""
    return Settings()
