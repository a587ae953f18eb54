"""The outbox: every nudge decision is a row, claimed before any provider call.

States: ``pending → claimed → sent | failed | in_doubt | suppressed``.
A row is claimed by a conditional UPDATE (only a ``pending`` row can be claimed), so
two workers never act on one decision. Mail has no idempotency key at either
provider, so a claimed email whose send outcome is unknown — or whose worker died
while holding the claim — becomes ``in_doubt`` and is never resent automatically.
Holds are idempotent at the provider, so an expired hold claim goes back to pending.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nudger.delivery.payload import NudgePayload
from nudger.store.models import Nudge

log = logging.getLogger(__name__)

CLAIM_TTL = timedelta(minutes=10)
INVITE = "invite"
"""The contact invited (into a hold, or to a new event): safe to retry, because the
connector reads the event before it adds anyone, and a new event has a fixed id."""
IDEMPOTENT_KINDS = ("hold", INVITE)
ERROR_MAX = 500


@dataclass(frozen=True)
class NewNudge:
    key: str
    contact_email: str
    kind: str
    rule: str
    payload: NudgePayload | None
    """None for a row delivery builds from the account alone (a reconnect request)."""
    evidence: list[str]
    priority: int = 0


@dataclass(frozen=True)
class ClaimedNudge:
    id: int
    key: str
    account_id: int
    contact_email: str
    kind: str
    rule: str
    payload: dict[str, Any]
    """As stored: delivery reads it (``NudgePayload.from_json``) where a row that cannot
    be read fails alone."""
    evidence: list[str]


def enqueue(session: Session, account_id: int, nudges: Iterable[NewNudge], now: datetime) -> int:
    """Insert decisions; a key already present is left alone. Returns how many were new."""
    rows = [
        dict(
            account_id=account_id,
            key=n.key,
            contact_email=n.contact_email,
            kind=n.kind,
            rule=n.rule,
            status="pending",
            payload=n.payload.to_json() if n.payload else {},
            evidence=n.evidence,
            priority=n.priority,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        for n in nudges
    ]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Nudge)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Nudge.id)  # psycopg reports no rowcount for this insert
    )
    return len(session.execute(statement).all())


def has_work(session: Session, account_id: int) -> bool:
    """Rows of the account waiting to be delivered, or claimed (a claim may have expired:
    ``sweep_expired_claims`` then hands it back)."""
    waiting = select(Nudge.id).where(
        Nudge.account_id == account_id, Nudge.status.in_(("pending", "claimed"))
    )
    return bool(session.scalar(select(waiting.exists())))


def pending_ids(session: Session, account_id: int) -> list[int]:
    query = (
        select(Nudge.id)
        .where(Nudge.account_id == account_id, Nudge.status == "pending")
        .order_by(Nudge.priority.desc(), Nudge.id)
    )
    return list(session.scalars(query))


def claim(session: Session, nudge_id: int, worker: str, now: datetime) -> ClaimedNudge | None:
    """Take a pending row for ``worker``; None when someone else got there first."""
    result = session.execute(
        update(Nudge)
        .where(Nudge.id == nudge_id, Nudge.status == "pending")
        .values(
            status="claimed",
            claimed_by=worker,
            claimed_at=now,
            updated_at=now,
            attempts=Nudge.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return None
    row = session.get_one(Nudge, nudge_id, populate_existing=True)
    return ClaimedNudge(
        row.id,
        row.key,
        row.account_id,
        row.contact_email,
        row.kind,
        row.rule,
        dict(row.payload or {}),
        list(row.evidence or []),
    )


def finish(
    session: Session,
    nudge_id: int,
    status: str,
    now: datetime,
    *,
    provider_ref: str | None = None,
    error: str | None = None,
) -> None:
    """Move a claimed row to its outcome (or back to pending for a retryable hold)."""
    values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": error}
    if status == "sent":
        values.update(sent_at=now, provider_ref=provider_ref)
    if status == "pending":
        values.update(claimed_by=None, claimed_at=None)
    session.execute(
        update(Nudge)
        .where(Nudge.id == nudge_id, Nudge.status == "claimed")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def sweep_expired_claims(session: Session, now: datetime, ttl: timedelta = CLAIM_TTL) -> int:
    """Claims whose worker vanished: holds go back to pending, anything else is in doubt."""
    expired = (Nudge.status == "claimed", Nudge.claimed_at < now - ttl)
    retried = _rowcount(
        session.execute(
            update(Nudge)
            .where(*expired, Nudge.kind.in_(IDEMPOTENT_KINDS))
            .values(
                status="pending",
                claimed_by=None,
                claimed_at=None,
                updated_at=now,
                last_error="worker lost its claim; retrying (idempotent)",
            )
            .execution_options(synchronize_session=False)
        )
    )
    doubted = _rowcount(
        session.execute(
            update(Nudge)
            .where(*expired, Nudge.kind.not_in(IDEMPOTENT_KINDS))
            .values(
                status="in_doubt",
                updated_at=now,
                last_error="worker lost its claim mid-send; not resent automatically",
            )
            .execution_options(synchronize_session=False)
        )
    )
    if retried or doubted:
        log.warning("swept expired claims: %d back to pending, %d in doubt", retried, doubted)
    return retried + doubted


def worker_id() -> str:
    """Who holds a claim: host and process, so a stale claim says where it was made."""
    return f"{socket.gethostname()}:{os.getpid()}"


def unexpected_error(exc: BaseException) -> str:
    """The ``last_error`` of a row that failed for an unforeseen reason, cut to size."""
    return f"unexpected error: {type(exc).__name__}: {exc}"[:ERROR_MAX]


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount or 0
