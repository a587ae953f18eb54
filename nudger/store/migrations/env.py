"""Alembic environment: runs on the connection handed over by ``nudger.store.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from nudger.store.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic` on the command line, for writing new revisions
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///nudger-dev.db"
    with create_engine(url).connect() as conn:
        _run(conn)
