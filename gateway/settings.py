"""Settings from ``GATEWAY_*`` environment variables and an optional ``.env`` file.

One ``Settings`` object is built at start-up (never at import) and passed down. The
variable names are those of SPEC §2; nested groups (HTTP, SMTP, database, Redis, Twilio)
are read from ``GATEWAY_<GROUP>_<FIELD>``. A bad value stops start-up with a message
naming the variable, because an IT administrator reads the message, not the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rules.identity import IdentityError, normalise_phone


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./var/gateway.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                f"'{value}' is not supported: use sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user@host/dbname"
            )
        return value


class RedisSettings(BaseModel):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"'{value}' is not a Redis URL (redis://host:port/db)")
        return value


class TwilioSettings(BaseModel):
    auth_token: SecretStr = SecretStr("")


class Settings(BaseSettings):
    """Everything the gateway reads from its environment; defaults run on one machine."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    http: HttpSettings = HttpSettings()
    smtp: SmtpSettings = SmtpSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    twilio: TwilioSettings = TwilioSettings()
    upstream: str = "maildir:./var/mail"
    org_domains: Annotated[tuple[str, ...], NoDecode] = ("example.org",)
    timezone: str = "Europe/London"
    default_region: str = "GB"
    public_url: str = ""
    emergency_number: str = ""

    @field_validator("upstream")
    @classmethod
    def _upstream(cls, value: str) -> str:
        if value.startswith("maildir:") and len(value) > len("maildir:"):
            return value
        if value.startswith("smtp://") and ":" in value[len("smtp://") :]:
            return value
        raise ValueError(f"'{value}' is neither maildir:PATH nor smtp://host:port")

    @field_validator("org_domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [d.strip().lower() for d in value.split(",")]
        domains = tuple(d for d in value if d)
        if not domains:
            raise ValueError("at least one staff domain is needed, e.g. example.org")
        for domain in domains:
            if "." not in domain or "@" in domain or " " in domain:
                raise ValueError(f"'{domain}' is not a mail domain like example.org")
        return domains

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone like Europe/London") from None
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"'{value}' is not a phone region code like GB")
        return value

    @field_validator("emergency_number")
    @classmethod
    def _emergency(cls, value: str, info: Any) -> str:
        if not value:
            return ""
        region = info.data.get("default_region", "GB")
        try:
            return normalise_phone(value, region)
        except IdentityError as exc:
            raise ValueError(str(exc)) from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def var_dir(self) -> Path:
        """Where local state lives when the defaults are used (the SQLite file, Maildirs)."""
        return Path("var")


class SettingsError(Exception):
    """Start-up settings are wrong; the message names each variable."""


def env_name(loc: tuple[str | int, ...]) -> str:
    """``('smtp', 'port')`` -> ``GATEWAY_SMTP_PORT``."""
    return "GATEWAY_" + "_".join(str(part) for part in loc).upper()


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one message naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            name = env_name(error["loc"])
            shown = "" if "TOKEN" in name else f" (got {error.get('input')!r})"
            lines.append(f"{name}: {message}{shown}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
