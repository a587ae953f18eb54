"""Settings: one typed class, environment prefix ``NUDGER_``, optional TOML file.

Every field is described; ``tests/test_config.py`` checks that the README documents
each of them. Secrets are ``SecretStr`` and can also be read from ``NUDGER_<NAME>_FILE``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from nudger.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(os.environ.get("NUDGER_HOME", "~/.nudger")).expanduser()
SECRET_FIELDS = (
    "secret_key",
    "smtp_url",
    "encryption_keys",
    "google_client_secret",
    "microsoft_client_secret",
    "broker_url",
)
# Read from ``NUDGER_<NAME>_FILE`` too: the secrets, and URLs that carry a password.
FILE_FIELDS = (*SECRET_FIELDS, "database_url")


class Settings(BaseSettings):
    """All of nudger's settings. Environment variables win over the settings file."""

    model_config = SettingsConfigDict(
        env_prefix="NUDGER_",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="Folder for the default SQLite database and the local key file; kept "
        "owner-only.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database. Empty: a SQLite file in the data folder. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    base_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8000"),
        description="Public URL of the web app, an origin only (no path, query or fragment); "
        "OAuth redirect URIs and email links start here.",
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Key that signs sessions and one-click links (a long random string). "
        "Required when the base URL is https; empty: derived from the newest encryption key.",
    )
    encryption_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated Fernet keys for tokens at rest, newest first. Older keys "
        "still decrypt, so keys can be rotated. Empty: a key file in the data folder.",
    )
    ca_bundle: Path | None = Field(
        None,
        description="Extra trusted CA certificates (PEM) for provider HTTPS: corporate proxies, "
        "the bundled emulator.",
    )

    google_client_id: str = Field("", description="OAuth client id of the Google Cloud app.")
    google_client_secret: SecretStr = Field(
        SecretStr(""), description="OAuth client secret of the Google Cloud app."
    )
    google_auth_uri: str = Field(
        "https://accounts.google.com/o/oauth2/v2/auth",
        description="Google's authorization endpoint.",
    )
    google_token_uri: str = Field(
        "https://oauth2.googleapis.com/token", description="Google's token endpoint."
    )
    google_revoke_uri: str = Field(
        "https://oauth2.googleapis.com/revoke", description="Google's token revocation endpoint."
    )
    google_api_endpoint: str = Field(
        "https://www.googleapis.com/",
        description="Base URL for Calendar and Gmail (google-api-python-client's api_endpoint "
        "root; nudger appends calendar/v3/).",
    )
    google_people_endpoint: str = Field(
        "https://people.googleapis.com/",
        description="Base URL of Google's People API (the Workspace directory).",
    )
    google_directory: bool = Field(
        False,
        description="Ask Google users for the optional directory.readonly scope: names, and "
        "managers and direct reports where the Workspace admin recorded them, for the "
        "guided start and roles. Off by default: it adds a line to the consent screen.",
    )

    microsoft_client_id: str = Field(
        "", description="Application (client) id of the Entra ID app registration."
    )
    microsoft_client_secret: SecretStr = Field(
        SecretStr(""), description="Client secret of the Entra ID app registration."
    )
    microsoft_authority: str = Field(
        "https://login.microsoftonline.com/common",
        description="Microsoft identity platform authority (national clouds, the emulator).",
    )
    graph_endpoint: str = Field(
        "https://graph.microsoft.com/v1.0",
        description="Microsoft Graph base URL including the version.",
    )
    microsoft_hire_dates: bool = Field(
        False,
        description="Ask Microsoft 365 users for User.Read.All (admin consent) to read key "
        "people's hire dates (employeeHireDate) for work anniversaries.",
    )

    smtp_url: SecretStr = Field(
        SecretStr(""),
        description="SMTP server for nudger's own service mail (the reconnect request, which "
        "cannot use a revoked mailbox): smtps://user:password@host:465 (TLS) or "
        "smtp://user:password@host:587 (STARTTLS, required: credentials never travel without "
        "TLS). smtp://host:25 without a login: a local relay, STARTTLS when offered. Empty: "
        "reconnect requests wait on the dashboard.",
    )
    mail_from: str = Field(
        "", description="From address of nudger's service mail, e.g. nudger@example.com."
    )

    lookback_days: int = Field(
        400,
        ge=1,
        le=3650,
        description="History window to sync: a year and more, so a first meeting a year ago shows.",
    )
    lookahead_days: int = Field(28, ge=1, le=365, description="Future window to sync.")
    rules_file: Path | None = Field(
        None, description="User rules file, merged over the shipped config/rules.yaml."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    broker_url: SecretStr | None = Field(
        None,
        description="Redis URL of the Celery broker, e.g. redis://host:6379/0. Set: passes "
        "run on `nudger worker` processes, the scheduler enqueues them, and Graph's "
        "per-mailbox request limit is shared through this Redis. Unset: everything runs "
        "in-process.",
    )
    broker_visibility_timeout: int = Field(
        120,
        ge=5,
        le=86400,
        description="Seconds before a pass whose worker died unacknowledged (SIGKILL, power "
        "loss) is delivered to another worker; Redis' default would be an hour.",
    )
    pass_lease_seconds: int = Field(
        30,
        ge=3,
        le=3600,
        description="Lifetime of an account's pass lock, renewed every third of it while "
        "the pass runs: a pass whose process died frees its account this long after.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("NUDGER_CONFIG_FILE")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        sources.append(_SecretFileSource(settings_cls))
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_file)))
        return tuple(sources)

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _production_has_secret_key(self) -> Settings:
        """Served over https, sessions and links must not depend on the encryption keys
        (rotating those would sign everyone out and break every emailed link)."""
        if self.public_url.startswith("https://") and not self.secret_key.get_secret_value():
            raise ConfigError(
                "NUDGER_SECRET_KEY is required when NUDGER_BASE_URL is https: set it to a "
                "long random string (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

    @field_validator("database_url", mode="after")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        problem = database_url_problem(value) if value else None
        if problem:
            raise PydanticCustomError("database_url", problem)
        return value

    @field_validator("base_url", mode="after")
    @classmethod
    def _bare_origin(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        """Routes, redirect URIs and links are appended to it, so it is an origin only."""
        if value.path not in (None, "/") or value.query or value.fragment or value.username:
            raise PydanticCustomError(
                "base_url",
                "an origin like https://nudger.example.com (scheme, host, port), "
                "with no path, query, fragment or user",
            )
        if value.scheme == "http" and not loopback_host(value.host or ""):
            log.warning(
                "NUDGER_BASE_URL %s is plain http: sessions and one-click links would cross "
                "the network unencrypted; use https beyond this machine",
                value,
            )
        return value

    @field_validator("smtp_url", mode="after")
    @classmethod
    def _smtp_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if url and not _is_smtp_url(url):
            # The URL holds a password: the message must not repeat it.
            raise ValueError(
                "expected smtps://user:password@host[:port] or smtp://[user:password@]host[:port]"
            )
        return value

    @field_validator("broker_url", mode="after")
    @classmethod
    def _redis_broker(cls, value: SecretStr | None) -> SecretStr | None:
        """Redis only: the pass queue, its depth and the shared Graph slots use Redis."""
        if value is None or not value.get_secret_value():
            return None
        if urlsplit(value.get_secret_value()).scheme not in ("redis", "rediss"):
            raise ValueError("expected redis://[:password@]host[:port]/db or rediss://...")
        return value

    @property
    def broker(self) -> str | None:
        """The broker URL in clear, or None when passes run in-process."""
        return self.broker_url.get_secret_value() if self.broker_url else None

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'nudger.db'}"

    @property
    def public_url(self) -> str:
        return str(self.base_url).rstrip("/")


def database_url_problem(url: str) -> str | None:
    """Why SQLAlchemy could not open ``url``, saying what to write instead; None if it can.

    Never quotes the URL: it may hold a password.
    """
    hint = "e.g. postgresql+psycopg://user@host/db or sqlite:////path/nudger.db"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"not a database URL; {hint}"
    try:
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, ImportError):  # an unknown dialect, or a driver not installed
        if parsed.drivername.startswith("postgres"):
            hint = "write postgresql+psycopg://user@host/db (the driver nudger installs)"
        return f"cannot open {parsed.drivername}:// (unknown database or driver missing); {hint}"
    return None


def loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (bracketed or not) or localhost: traffic that never leaves the
    machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class _SecretFileSource(PydanticBaseSettingsSource):
    """Reads ``NUDGER_<NAME>_FILE`` for each secret field and each URL that may carry a
    password (Docker and k8s secrets)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in FILE_FIELDS:
            path = os.environ.get(f"NUDGER_{name.upper()}_FILE")
            if path and not os.environ.get(f"NUDGER_{name.upper()}"):
                try:
                    values[name] = Path(path).read_text().strip()
                except OSError as exc:
                    raise ConfigError(
                        f"NUDGER_{name.upper()}_FILE: cannot read {path}: {exc}"
                    ) from exc
        return values


def _is_smtp_url(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("smtp", "smtps") and bool(parts.hostname)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one clear ``ConfigError``."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"NUDGER_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
