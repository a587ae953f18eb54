"""Named leader leases in the database: at most one holder per name at a time.

A lease is taken or renewed by one conditional upsert: insert the row, or, when it
exists, overwrite it only if ``holder`` already holds it or it has expired. The
database serialises concurrent attempts on the row, so two processes racing for a
free or expired lease cannot both win, on SQLite or on PostgreSQL. Holders compare
expiry against their own clocks: keep the TTL well above any clock skew.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from nudger.store.db import Database, session_scope
from nudger.store.models import Lease

log = logging.getLogger(__name__)


def try_acquire(db: Database, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take lease ``name`` for ``holder`` until ``now + ttl``, or renew it; False if taken."""
    with session_scope(db) as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(Lease).values(name=name, holder=holder, expires_at=now + ttl)
        statement = insert.on_conflict_do_update(
            index_elements=[Lease.name],
            set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
            where=or_(Lease.holder == holder, Lease.expires_at < now),
        )
        # RETURNING, not rowcount: drivers disagree on the rowcount of an upsert.
        return session.execute(statement.returning(Lease.name)).first() is not None


def release(db: Database, name: str, holder: str) -> bool:
    """Give the lease up at once (on shutdown), so a follower need not wait for expiry."""
    with session_scope(db) as session:
        result = session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
        return _rowcount(result) == 1


def holder_of(db: Database, name: str, now: datetime) -> str | None:
    """Who holds lease ``name`` at ``now``; None when nobody does (absent or expired)."""
    with session_scope(db) as session:
        return session.scalar(
            select(Lease.holder).where(Lease.name == name, Lease.expires_at >= now)
        )


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount or 0
