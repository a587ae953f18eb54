"""Named leader leases in the database: at most one holder per name at a time.

A lease is taken or renewed by one conditional upsert: insert the row, or, when it
exists, overwrite it only if ``holder`` already holds it or it has expired. The
database serialises concurrent attempts on the row, so two processes racing for a
free or expired lease cannot both win, on SQLite or on PostgreSQL. Holders compare
expiry against their own clocks: keep the TTL well above any clock skew.

``KeptLease`` holds a lease for as long as some work runs, renewing it from a
background thread every third of its TTL; when the process dies the renewals stop and
the lease lapses one TTL later at most. It keeps the time of the work it guards: taken
at the work's ``now`` (the wall clock in production, a chosen moment in tests and
simulations), renewed at that ``now`` plus the time elapsed since.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nudger.clock import utcnow
from nudger.errors import NudgerError
from nudger.store.db import Database, session_scope
from nudger.store.models import Lease

log = logging.getLogger(__name__)


class LeaseLost(NudgerError):
    """Another holder took the lease while the guarded work ran."""


def try_acquire(db: Database, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take lease ``name`` for ``holder`` until ``now + ttl``, or renew it; False if taken."""
    with session_scope(db) as session:
        return _upsert(session, name, holder, now, ttl)


def _upsert(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
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


def lease_of(db: Database, name: str) -> tuple[str, datetime] | None:
    """Lease ``name``'s holder and expiry as stored, lapsed or not; None when absent."""
    with session_scope(db) as session:
        row = session.execute(
            select(Lease.holder, Lease.expires_at).where(Lease.name == name)
        ).first()
        return (row.holder, row.expires_at) if row else None


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount or 0


def new_holder(prefix: str = "") -> str:
    """Host, process and a random part: two holders in one process differ too."""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class KeptLease:
    """A lease taken at ``start`` and renewed in the background until released."""

    def __init__(
        self, db: Database, name: str, holder: str, ttl: timedelta, start: datetime
    ) -> None:
        self.db, self.name, self.holder, self.ttl = db, name, holder, ttl
        self._start, self._started = start, time.monotonic()
        self._stop = threading.Event()
        self._renewed = self._started
        self._thread = threading.Thread(target=self._keep, name=f"lease {name}", daemon=True)

    @classmethod
    def take(
        cls, db: Database, name: str, holder: str, ttl: timedelta, now: datetime | None = None
    ) -> KeptLease | None:
        """The lease, now held and kept; None when someone else holds it at ``now``."""
        now = now or utcnow()
        if not try_acquire(db, name, holder, now, ttl):
            return None
        kept = cls(db, name, holder, ttl, now)
        kept._thread.start()
        return kept

    @property
    def taken_at(self) -> datetime:
        """When the lease was taken, in the guarded work's time."""
        return self._start

    def clock(self) -> datetime:
        """The guarded work's time: its start plus the time elapsed since."""
        return self._start + timedelta(seconds=time.monotonic() - self._started)

    def renew_in(self, session: Session) -> None:
        """Renew the lease inside ``session``'s transaction, so that its commit extends it.

        For long write transactions: on SQLite one holds the whole database's write lock,
        so the renewal thread cannot write until it commits, and the lease may lapse in
        the meantime. Renewed just before that commit, it is fresh the moment any other
        process can write again. Raises ``LeaseLost`` (rolling the transaction back) when
        another holder took the lease first.
        """
        if not _upsert(session, self.name, self.holder, self.clock(), self.ttl):
            raise LeaseLost(f"lease {self.name} was taken by another holder")
        self._renewed = time.monotonic()

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                if not try_acquire(self.db, self.name, self.holder, self.clock(), self.ttl):
                    log.warning("lease %s was lost to another holder", self.name)
                    return
                self._renewed = time.monotonic()
            except SQLAlchemyError as exc:  # the next renewal may succeed
                self._renewal_failed(exc)

    def _renewal_failed(self, exc: SQLAlchemyError) -> None:
        """Warn once the lease is at risk; until then a busy database (a long write
        transaction of the guarded work, which renews the lease as it commits) is normal."""
        unrenewed = time.monotonic() - self._renewed
        at_risk = unrenewed > self.ttl.total_seconds() * 2 / 3
        level = logging.WARNING if at_risk else logging.INFO
        log.log(level, "lease %s renewal failed: %s", self.name, exc.__class__.__name__)

    def release(self) -> None:
        self._stop.set()
        self._thread.join()
        try:
            release(self.db, self.name, self.holder)
        except SQLAlchemyError as exc:  # it lapses by itself one TTL later
            log.warning("lease %s not released: %s", self.name, exc.__class__.__name__)

    def __enter__(self) -> KeptLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
