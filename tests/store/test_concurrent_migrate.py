"""Several processes opening one fresh PostgreSQL database at once (``docker compose up``
with the web app and scaled workers) must all start: one migrates, the others wait
for it and find the schema current.

Without a lock, two ``alembic upgrade`` runs both see no ``alembic_version`` table and
both issue ``CREATE TABLE``: PostgreSQL's transactional DDL makes the loser fail with a
unique violation on ``pg_type`` or "relation already exists" at commit.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS

PROCESSES = 4

# Each process imports everything first, then waits for the same instant to migrate.
MIGRATE = """
import sys, time
from nudger.store.db import create_engine_for, migrate
engine = create_engine_for(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(engine)
engine.dispose()
"""


@pytest.mark.skipif("postgres" not in BACKENDS, reason="needs NUDGER_TEST_DATABASE_URL")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_processes_migrating_one_fresh_database_at_once_all_start(database_url: str) -> None:
    at = str(time.time() + 4)
    started = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, database_url, at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outcomes = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in started]

    assert [code for code, _ in outcomes] == [0] * PROCESSES, outcomes
    engine = create_engine(database_url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1
