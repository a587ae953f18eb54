"""Suite-wide fixtures: a real database (SQLite, and PostgreSQL when configured).

``NUDGER_TEST_DATABASE_URL`` names a PostgreSQL server database the suite may use
to create and drop scratch databases; every test that asks for ``database_url``
then runs once on SQLite and once on a fresh PostgreSQL database of its own.

``redis_url``: the machine's Redis (``.ci/run`` starts it), database 5 flushed for each
test (``NUDGER_TEST_REDIS_URL`` names another). Without Redis its tests are skipped,
unless ``NUDGER_REQUIRE_REDIS=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nudger.config import Settings, load_settings
from nudger.runtime import Runtime, open_runtime
from tests.live_server import LiveServer
from tests.team import MONDAY, Team, generated_team

POSTGRES_URL = os.environ.get("NUDGER_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
REDIS_URL = os.environ.get("NUDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REQUIRE_REDIS = os.environ.get("NUDGER_REQUIRE_REDIS") == "1"
"""Read at import: ``_isolated_environment`` clears every NUDGER_ variable for the tests."""


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer setting leaks into a test; HOME-relative defaults stay in tmp."""
    for name in list(os.environ):
        if name.startswith("NUDGER_") and name != "NUDGER_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("NUDGER_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nudger.db'}"
        return
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"nudger_test_{secrets.token_hex(6)}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"NUDGER_REQUIRE_REDIS=1 but Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, encryption_key: str) -> Settings:
    return load_settings(
        database_url=database_url, data_dir=tmp_path / "data", encryption_keys=encryption_key
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    opened = open_runtime(settings)
    yield opened
    opened.db.dispose()


@pytest.fixture
def team(database_url: str, tmp_path: Path, encryption_key: str) -> Iterator[Team]:
    """A generated team on the emulator on ``MONDAY``, its owner signed in with Google."""
    with generated_team(
        MONDAY, database_url=database_url, data_dir=tmp_path / "data", encryption_key=encryption_key
    ) as generated:
        generated.connect_owner()
        yield generated


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """A port of its own for the web app, taken now; ``start`` serves an app on it."""
    server = LiveServer()
    yield server
    server.stop()
