"""Settings: names of the contract, defaults, secrets, files, and the README."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from nudger.config import FILE_FIELDS, Settings, load_settings
from nudger.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEST_CONFIGURATION = (ROOT / "tests" / "conftest.py", ROOT / "tests" / "browser" / "conftest.py")
"""Where the suite reads its own variables (``NUDGER_TEST_DATABASE_URL``...)."""
CONTRACT = {
    "NUDGER_DATABASE_URL",
    "NUDGER_BASE_URL",
    "NUDGER_SECRET_KEY",
    "NUDGER_ENCRYPTION_KEYS",
    "NUDGER_CA_BUNDLE",
    "NUDGER_GOOGLE_CLIENT_ID",
    "NUDGER_GOOGLE_CLIENT_SECRET",
    "NUDGER_GOOGLE_AUTH_URI",
    "NUDGER_GOOGLE_TOKEN_URI",
    "NUDGER_GOOGLE_REVOKE_URI",
    "NUDGER_GOOGLE_API_ENDPOINT",
    "NUDGER_MICROSOFT_CLIENT_ID",
    "NUDGER_MICROSOFT_CLIENT_SECRET",
    "NUDGER_MICROSOFT_AUTHORITY",
    "NUDGER_GRAPH_ENDPOINT",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("NUDGER_") and name != "NUDGER_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


def env_names() -> set[str]:
    return {f"NUDGER_{name.upper()}" for name in Settings.model_fields}


def test_every_contract_setting_exists() -> None:
    assert env_names() >= CONTRACT


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"`(NUDGER_[A-Z_]+)`", README.read_text()))
    assert env_names() - documented == set()


def test_every_variable_the_readme_names_is_read_by_nudger_or_its_tests() -> None:
    named = set(re.findall(r"\bNUDGER_[A-Z]+(?:_[A-Z]+)*\b", README.read_text()))
    as_files = {f"NUDGER_{name.upper()}_FILE" for name in FILE_FIELDS}
    suite = {
        m for path in TEST_CONFIGURATION for m in re.findall(r'"(NUDGER_\w+)"', path.read_text())
    }
    assert named - env_names() - as_files - suite - {"NUDGER_CONFIG_FILE"} == set()


def test_every_setting_is_described() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_defaults_point_at_the_real_providers(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.google_token_uri == "https://oauth2.googleapis.com/token"
    assert settings.graph_endpoint == "https://graph.microsoft.com/v1.0"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'nudger.db'}"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGER_BASE_URL", "https://nudger.example.com/")
    monkeypatch.setenv("NUDGER_SECRET_KEY", "a-long-random-string")  # required over https
    monkeypatch.setenv("NUDGER_LOOKBACK_DAYS", "90")
    settings = load_settings()
    assert settings.public_url == "https://nudger.example.com"
    assert settings.lookback_days == 90


def test_secrets_are_hidden_and_readable_from_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "google-secret"
    secret.write_text("s3cret-value\n")
    monkeypatch.setenv("NUDGER_GOOGLE_CLIENT_SECRET_FILE", str(secret))
    settings = load_settings()
    assert settings.google_client_secret.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)


def test_database_url_with_a_password_is_readable_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """compose.yaml hands the PostgreSQL URL, password included, over as a secret file."""
    url_file = tmp_path / "database_url"
    url_file.write_text("postgresql+psycopg://nudger:pw@postgres/nudger\n")
    monkeypatch.setenv("NUDGER_DATABASE_URL_FILE", str(url_file))
    assert load_settings().database_url == "postgresql+psycopg://nudger:pw@postgres/nudger"


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGER_LOOKBACK_DAYS", "many")
    with pytest.raises(ConfigError, match="NUDGER_LOOKBACK_DAYS"):
        load_settings()


def test_unknown_setting_in_config_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "nudger.toml"
    config.write_text("lookback_dayz = 3\n")
    monkeypatch.setenv("NUDGER_CONFIG_FILE", str(config))
    with pytest.raises(ConfigError, match="LOOKBACK_DAYZ"):
        load_settings()


def test_example_config_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[1] / "config" / "nudger.example.toml"
    monkeypatch.setenv("NUDGER_CONFIG_FILE", str(example))
    monkeypatch.setenv("NUDGER_SECRET_KEY", "a-long-random-string")  # its base_url is https
    assert load_settings().lookahead_days == 28


@pytest.mark.parametrize(
    "url",
    [
        "https://nudger.example.com/app",
        "https://nudger.example.com/?next=/",
        "https://nudger.example.com/#top",
        "https://admin:pw@nudger.example.com",
    ],
)
def test_a_base_url_beyond_an_origin_is_refused(url: str) -> None:
    """Redirect URIs and links are the base URL plus a route: a path or query would break them."""
    with pytest.raises(ConfigError, match="NUDGER_BASE_URL: an origin like https://"):
        load_settings(base_url=url)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://nudger.example.com", True),
        ("http://192.0.2.7:8000", True),
        ("https://nudger.example.com", False),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://[::1]:8000", False),
    ],
)
def test_plain_http_beyond_this_machine_is_warned(
    url: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="nudger.config"):
        load_settings(base_url=url, secret_key="a-long-random-string")  # https requires one
    assert ("NUDGER_BASE_URL" in caplog.text and "plain http" in caplog.text) == warned
