"""Settings from environment variables (prefix BOT_) or a `.env` file, validated once in `main()`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.errors import EngineError

IdList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    """Every knob in one place; nothing reads the environment anywhere else."""

    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("var/index")
    model: str = "all-MiniLM-L6-v2"
    embedder: Literal["onnx", "torch"] = Field(
        "onnx", description="onnx: ONNX Runtime, exported once from the model's weights (answering never loads "
        "PyTorch); torch: sentence-transformers on PyTorch, the reference",
    )
    onnx_dir: Path = Field(Path("var/onnx"), description="where the ONNX export of the model is cached")
    min_relevance: float | None = Field(
        None, ge=0.0, le=2.0,
        description="relevance (cosine plus word coverage) below which the documents are said not to cover a "
        "question; unset means the threshold measured on the corpus when it was indexed",
    )
    max_quote_chars: int = Field(900, ge=200, le=4000)
    max_file_bytes: int = Field(20_000_000, ge=1)
    discord_token: SecretStr | None = Field(None, validation_alias=AliasChoices("BOT_DISCORD_TOKEN", "DISCORD_TOKEN"))
    guild_ids: IdList = []
    qa_channel_ids: IdList = []
    cooldown_seconds: float = Field(10.0, ge=0)
    answer_dms: bool = False
    feedback_db: Path = Path("var/feedback.sqlite")
    discord_state_file: Path = Field(
        Path("var/discord_commands.json"),
        description="what the last slash-command sync registered, so a restart syncs only when the commands changed",
    )
    sync_user_agent: str = Field(
        "improvement-bot/0.1 (children's services improvement Q&A bot; fetches public committee papers)",
        min_length=8, description="sent with every sync request; add a contact address for the council's web team",
    )
    sync_timeout_seconds: float = Field(30.0, gt=0, le=600, description="connect / read timeout of one request")
    sync_download_seconds: float = Field(300.0, gt=0, description="a whole download must finish within this")
    sync_retries: int = Field(3, ge=0, le=10, description="extra tries after a timeout, dropped connection or 5xx")
    sync_backoff_seconds: float = Field(1.0, ge=0, le=60, description="wait before the first retry, then doubled")
    sync_max_bytes: int = Field(20_000_000, ge=1, description="a paper larger than this is not downloaded")
    sync_max_redirects: int = Field(5, ge=0, le=20)
    sync_workers: int = Field(4, ge=1, le=16, description="papers downloaded at once")
    sync_interval_minutes: float = Field(
        0, ge=0, description="Discord: sync from sources.toml every this many minutes; 0 (the default) never")
    sync_channel_id: int | None = Field(None, description="Discord: the channel the scheduled sync posts 'New papers' to")
    watches_db: Path = Path("var/watches.sqlite")

    @field_validator("guild_ids", "qa_channel_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Accept '123,456' as well as a list, as people type ids into .env files."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings with command-line overrides; every bad value is named at once, on one line."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        problems = [(_variable(problem["loc"]), problem["msg"]) for problem in error.errors()]
        if len(problems) == 1:
            [(name, why)] = problems
            raise EngineError(f"setting {name} is invalid: {why}; fix it in the environment or .env") from error
        listed = "; ".join(f"{name} ({why})" for name, why in problems)
        raise EngineError(f"{len(problems)} settings are invalid: {listed}; fix them in the environment or .env") from error


def _variable(location: tuple[int | str, ...]) -> str:
    """The environment variable a validation error is about: 'cooldown_seconds' -> 'BOT_COOLDOWN_SECONDS'."""
    if not location:
        return "settings"
    name = str(location[0]).upper()
    return name if name.startswith(("BOT_", "DISCORD_")) else f"BOT_{name}"
