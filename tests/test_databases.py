"""The suite's own databases (tests/databases.py): what a test gets is as good as new."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from nudger.config import load_settings
from nudger.runtime import Runtime, open_runtime
from nudger.store.db import MIGRATIONS, session_scope
from nudger.store.models import Account, Meta
from tests.conftest import POSTGRES_URL
from tests.databases import ReusedDatabase, copy_sqlite


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head
    return head


def opened(url: str, tmp_path: Path) -> Runtime:
    key = Fernet.generate_key().decode()
    return open_runtime(load_settings(database_url=url, data_dir=tmp_path, encryption_keys=key))


def add_account(runtime: Runtime, email: str = "a@example.com") -> int:
    with session_scope(runtime.db) as session:
        account = Account(provider="google", email=email, credentials="x", settings={})
        session.add(account)
        session.flush()
        return account.id


def rows(url: str) -> tuple[int, int, str]:
    """Accounts, meta rows and the schema's revision."""
    engine = create_engine(url)
    with engine.connect() as conn:
        accounts = conn.scalar(select(func.count()).select_from(Account.__table__))
        meta = conn.scalar(select(func.count()).select_from(Meta.__table__))
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return accounts or 0, meta or 0, str(revision)


def test_a_sqlite_copy_is_owner_only_migrated_and_empty(
    sqlite_template: bytes, tmp_path: Path
) -> None:
    url = copy_sqlite(sqlite_template, tmp_path / "nudger.db")
    assert stat.S_IMODE((tmp_path / "nudger.db").stat().st_mode) == 0o600
    assert rows(url) == (0, 0, head_revision())


@pytest.mark.skipif(not POSTGRES_URL, reason="NUDGER_TEST_DATABASE_URL is not set")
def test_emptying_deletes_every_row_restarts_ids_and_ends_other_sessions(
    postgres_database: ReusedDatabase, tmp_path: Path
) -> None:
    postgres_database.empty()
    runtime = opened(postgres_database.url, tmp_path)
    first = add_account(runtime)
    add_account(runtime, "b@example.com")
    holder = create_engine(postgres_database.url).connect()
    holder.execute(select(Account).with_for_update())  # a lock that would block TRUNCATE

    postgres_database.empty()

    assert rows(postgres_database.url) == (0, 0, head_revision())
    with pytest.raises(OperationalError):
        holder.execute(text("SELECT 1"))
    holder.invalidate()
    runtime.db.dispose()
    assert add_account(opened(postgres_database.url, tmp_path)) == first
