"""The suite's databases, migrated once per pytest process instead of once per test.

Migrating costs 30-100 ms on SQLite; on PostgreSQL creating a database costs about
0.3 s and migrating it 0.2 s. So each pytest process (each xdist worker) migrates one
SQLite file, which every test gets a copy of, and makes and migrates one PostgreSQL
database of its own, which every test empties first. Either way a test starts on a
migrated database that holds no row (numbered from 1 again), that no other test
touches meanwhile, and that no connection of an earlier test reaches: they are ended,
as ``DROP DATABASE ... WITH (FORCE)`` did.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from nudger.files import write_private
from nudger.store.db import create_engine_for, migrate

KEPT_TABLES = ("alembic_version",)
"""Rows the migrations leave behind: the schema's revision, which emptying keeps."""


def migrated_sqlite(path: Path) -> bytes:
    """The bytes of a SQLite database at ``path`` that migrations ran on."""
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection folds the WAL into the file and removes it
    assert not path.with_name(f"{path.name}-wal").exists()
    return path.read_bytes()


def copy_sqlite(template: bytes, path: Path) -> str:
    """A copy of ``template`` at ``path``, owner-only as nudger makes it; its URL."""
    write_private(path, template)
    return f"sqlite:///{path}"


@contextmanager
def scratch_database(server_url: str, label: str) -> Iterator[str]:
    """A new empty database on the server of ``server_url`` (its URL), dropped at the end.
    Its commits do not wait for the disk: that matters only when the server itself
    crashes, never to what a session sees."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"nudger_test_{label}_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


class ReusedDatabase:
    """One migrated database that each test gets back empty."""

    def __init__(self, url: str) -> None:
        self.url = url
        migrating = create_engine_for(url)  # as nudger migrates: in one transaction
        migrate(migrating)
        migrating.dispose()
        self._engine: Engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self._tables = self._emptied_tables()
        self._check_migrations_leave_no_rows()

    def empty(self) -> None:
        """End every other session on it, then delete every row and restart every id."""
        with self._engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(text("SET lock_timeout = '10s'"))  # a straggler fails the test, not hangs
            conn.execute(text(f"TRUNCATE {self._tables} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        self._engine.dispose()

    def _emptied_tables(self) -> str:
        with self._engine.connect() as conn:
            names = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            return ", ".join(f'"{name}"' for name in sorted(names) if name not in KEPT_TABLES)

    def _check_migrations_leave_no_rows(self) -> None:
        """Emptying equals a fresh migration only while no migration inserts rows."""
        with self._engine.connect() as conn:
            for table in self._tables.split(", "):
                count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                assert count == 0, (
                    f"a migration leaves rows in {table}, which emptying would delete: "
                    "make ReusedDatabase.empty keep or restore them"
                )
