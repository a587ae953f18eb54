"""Suite-wide fixtures: a real database (SQLite, and PostgreSQL when configured).

``NUDGER_TEST_DATABASE_URL`` names a PostgreSQL server database the suite may use
to create and drop scratch databases; every test that asks for ``database_url``
then runs on SQLite and on PostgreSQL, each time on an empty migrated database that
no other test uses meanwhile (see tests/databases.py).

``redis_url``: the machine's Redis (``.ci/run`` starts it), database 5 (plus the xdist
worker's number, so parallel workers never share a queue) flushed for each test
(``NUDGER_TEST_REDIS_URL`` names another). Without Redis its tests are skipped, unless
``NUDGER_REQUIRE_REDIS=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from cryptography.fernet import Fernet

from nudger.config import Settings, load_settings
from nudger.runtime import Runtime, open_runtime
from tests.databases import ReusedDatabase, copy_sqlite, migrated_sqlite, scratch_database
from tests.live_server import LiveServer
from tests.team import MONDAY, Team, generated_team

POSTGRES_URL = os.environ.get("NUDGER_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
REDIS_URL = os.environ.get("NUDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REQUIRE_REDIS = os.environ.get("NUDGER_REQUIRE_REDIS") == "1"
"""Read at import: ``_isolated_environment`` clears every NUDGER_ variable for the tests."""


def isolate(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """No developer setting leaks into a test; HOME-relative defaults stay in tmp."""
    for name in list(os.environ):
        if name.startswith("NUDGER_") and name != "NUDGER_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("NUDGER_DATA_DIR", str(data_dir))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "data")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return migrated_sqlite(tmp_path_factory.mktemp("sqlite-template") / "nudger.db")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[ReusedDatabase]:
    """This pytest process's own database (each xdist worker, gw0, gw1..., has one)."""
    with scratch_database(POSTGRES_URL, os.environ.get("PYTEST_XDIST_WORKER", "main")) as url:
        database = ReusedDatabase(url)
        yield database
        database.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "nudger.db")
    database: ReusedDatabase = request.getfixturevalue("postgres_database")
    database.empty()
    return database.url


@pytest.fixture(params=BACKENDS)
def unmigrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nudger has never opened: for the tests of migrating itself."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'unmigrated.db'}"
        return
    with scratch_database(POSTGRES_URL, "unmigrated") as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: bytes
) -> Iterator[str]:
    """A database for the tests of one module that only read what one costly setup wrote:
    on PostgreSQL a new one of its own (apart from the one ``database_url`` empties)."""
    if request.param == "sqlite":
        yield copy_sqlite(sqlite_template, tmp_path_factory.mktemp("module-db") / "nudger.db")
        return
    with scratch_database(POSTGRES_URL, "module") as url:
        yield url


@pytest.fixture
def redis_url(worker_id: str) -> Iterator[str]:
    url = redis_for_worker(REDIS_URL, worker_id)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"NUDGER_REQUIRE_REDIS=1 but Redis at {url} is unreachable: {exc}")
        pytest.skip(f"no Redis at {url}")
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def redis_for_worker(url: str, worker_id: str) -> str:
    """The xdist worker ``gwN`` gets database ``base + N``; ``master`` (no xdist) the base."""
    parsed = urlsplit(url)
    base = int(parsed.path.strip("/") or 0)
    offset = int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0
    return urlunsplit(parsed._replace(path=f"/{base + offset}"))


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
