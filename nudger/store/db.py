"""Engine, sessions and automatic migrations.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on;
PostgreSQL uses the same models and migrations. ``open_database`` migrates to the
newest revision and checks that the configured encryption keys can read what is
already stored, so a wrong key stops nudger at startup instead of at first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from nudger.config import Settings
from nudger.crypto import TokenCipher
from nudger.errors import ConfigError, CryptoError
from nudger.files import FILE_MODE, private_file, private_folder, tighten
from nudger.store.models import Account, Meta, OAuthPending

MIGRATIONS = Path(__file__).parent / "migrations"
CANARY_KEY = "key_canary"
CANARY_TEXT = "nudger-key-canary"
SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATION_LOCK = 0x6E75646765  # "nudge": one advisory lock key for schema migrations


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    def dispose(self) -> None:
        self.engine.dispose()


def create_engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        _private_sqlite_files(Path(parsed.database))
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_sqlite_files(database: Path) -> None:
    """The database file exists owner-only before SQLite opens it: SQLite gives its
    ``-wal`` and ``-shm`` files the database file's permissions (``os_unix.c``,
    ``findCreateFileMode``). Ones left looser by an older nudger are tightened."""
    if not database.parent.exists():
        private_folder(database.parent)
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(database.with_name(database.name + suffix), FILE_MODE)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (a no-op when it is current).

    On PostgreSQL the web app and every worker may start at once on one database: a
    transaction-level advisory lock makes the others wait for the first to commit, then
    read ``alembic_version`` afresh and find nothing to do. (SQLite's write lock already
    serialises them.)
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(settings: Settings, cipher: TokenCipher) -> Database:
    engine = create_engine_for(settings.resolved_database_url)
    try:
        migrate(engine)
    except Exception as exc:
        engine.dispose()
        raise ConfigError(
            f"NUDGER_DATABASE_URL: cannot open or migrate the database: {exc}"
        ) from exc
    db = Database(engine, sessionmaker(engine, expire_on_commit=False))
    check_key_canary(db, cipher)
    return db


def check_key_canary(db: Database, cipher: TokenCipher) -> None:
    """The first run stores an encrypted canary; later runs must be able to read it."""
    with session_scope(db) as session:
        canary = session.get(Meta, CANARY_KEY)
        if canary is None:
            session.add(Meta(key=CANARY_KEY, value=cipher.encrypt(CANARY_TEXT)))
            return
        try:
            readable = cipher.decrypt(canary.value) == CANARY_TEXT
        except CryptoError:
            readable = False
    if not readable:
        raise ConfigError(
            "NUDGER_ENCRYPTION_KEYS: none of the configured keys can decrypt the credentials "
            "stored in this database (wrong key, or the key file was replaced). Configure the "
            "key that was used, or add it after the new one to rotate."
        )


def reencrypt_all(session: Session, cipher: TokenCipher) -> int:
    """Rotate every encrypted value in the database to the newest key."""
    count = 0
    for account in session.scalars(select(Account)):
        account.credentials = cipher.rotate(account.credentials)
        count += 1
    for pending in session.scalars(select(OAuthPending)):
        pending.payload = cipher.rotate(pending.payload)
        count += 1
    canary = session.get(Meta, CANARY_KEY)
    if canary is not None:
        canary.value = cipher.rotate(canary.value)
    return count


@contextmanager
def session_scope(db: Database) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    session = db.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
