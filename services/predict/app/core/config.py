"""Settings of the predict service, read from PREDICT_* environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.scaffold import ServiceSettings


class Settings(ServiceSettings):
    """Everything the predict service can be told from outside; env prefix ``PREDICT_``.

    The common settings (host, batch and body limits, logging, shutdown) are ServiceSettings'.
    """

    model_config = SettingsConfigDict(env_prefix="PREDICT_", extra="ignore")

    port: int = Field(8001, ge=0, le=65535)
    # Directory holding model.skops and signature.json. None: no model (readyz says why);
    # `bazel run :serve` fills it from the runfiles of //model:model.
    model_dir: Path | None = None
    # Most rows the dynamic batcher hands to the model at once (several requests together).
    max_rows_per_call: int = Field(4096, ge=1)
    # Most threads one model call uses. The evaluator gives a thread at least 128 rows, so only
    # large batches use more than one; the answers do not depend on it.
    model_threads: int = Field(2, ge=1)

    @field_validator("model_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        # An empty variable means "not set", not the current directory.
        return None if value == "" else value


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read from the environment once, on first use."""
    return Settings()
