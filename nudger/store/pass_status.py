"""Each account's pass bookkeeping on its row: last pass, next due, queued since.

Enqueueing claims the row by a conditional UPDATE on ``enqueued_at``, so of two
schedulers (around a lease hand-over) or two ticks only one queues a pass. None of
these updates touches ``updated_at``: bookkeeping is not a change of the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from nudger.store.models import Account

ACTIVE = "active"


@dataclass(frozen=True)
class FailingAccount:
    email: str
    error: str
    at: datetime


@dataclass(frozen=True)
class PassOverview:
    accounts: int
    """Active accounts."""
    queued: int
    """Active accounts with a pass on the queue or running."""
    oldest_due: datetime | None
    """The earliest ``next_due_at`` at or before now, of an account not queued."""
    last_pass_at: datetime | None
    failing: list[FailingAccount]


def _unchanged() -> dict[str, Any]:
    return {"updated_at": Account.updated_at}


def _not_queued(stale_before: datetime) -> Any:
    return or_(Account.enqueued_at.is_(None), Account.enqueued_at < stale_before)


def unscheduled(session: Session) -> list[tuple[int, datetime]]:
    """Active accounts with no due time yet: (id, created_at)."""
    query = select(Account.id, Account.created_at).where(
        Account.status == ACTIVE, Account.next_due_at.is_(None)
    )
    return [(row.id, row.created_at) for row in session.execute(query)]


def set_first_due(session: Session, account_id: int, due: datetime) -> None:
    session.execute(
        update(Account)
        .where(Account.id == account_id, Account.next_due_at.is_(None))
        .values(next_due_at=due, **_unchanged())
        .execution_options(synchronize_session=False)
    )


def due(session: Session, now: datetime, stale_before: datetime) -> list[int]:
    """Active accounts due by ``now`` and not queued since ``stale_before``, oldest first."""
    query = (
        select(Account.id)
        .where(Account.status == ACTIVE, Account.next_due_at <= now, _not_queued(stale_before))
        .order_by(Account.next_due_at, Account.id)
    )
    return list(session.scalars(query))


def claim_for_queue(
    session: Session, account_id: int, now: datetime, stale_before: datetime
) -> bool:
    """Mark the account queued; False when a pass is already queued or running."""
    result = session.execute(
        update(Account)
        .where(Account.id == account_id, _not_queued(stale_before))
        .values(enqueued_at=now, **_unchanged())
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def mark_queued(session: Session, account_ids: list[int], now: datetime) -> None:
    """Queued by hand (``nudger cycle --enqueue``), whatever the scheduler had done."""
    session.execute(
        update(Account)
        .where(Account.id.in_(account_ids))
        .values(enqueued_at=now, **_unchanged())
        .execution_options(synchronize_session=False)
    )


def record_pass(
    session: Session,
    account_id: int,
    *,
    started: datetime,
    error: str | None,
    next_due: datetime,
) -> None:
    """A pass ran: how it ended, when the next is due; it is no longer queued."""
    session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            last_pass_at=started,
            last_pass_status="failed" if error else "ok",
            last_pass_error=error,
            next_due_at=next_due,
            enqueued_at=None,
            **_unchanged(),
        )
        .execution_options(synchronize_session=False)
    )


def clear_queued(session: Session, account_id: int) -> None:
    """A queued pass ended without running (account paused, or another pass held it)."""
    session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(enqueued_at=None, **_unchanged())
        .execution_options(synchronize_session=False)
    )


def overview(session: Session, now: datetime, *, failing_limit: int = 20) -> PassOverview:
    active = Account.status == ACTIVE
    counts = session.execute(
        select(
            func.count(Account.id),
            func.count(Account.enqueued_at),
            func.max(Account.last_pass_at),
        ).where(active)
    ).one()
    oldest_due = session.scalar(
        select(func.min(Account.next_due_at)).where(
            active, Account.next_due_at <= now, Account.enqueued_at.is_(None)
        )
    )
    failing = session.execute(
        select(Account.email, Account.last_pass_error, Account.last_pass_at)
        .where(active, Account.last_pass_status == "failed")
        .order_by(Account.last_pass_at.desc())
        .limit(failing_limit)
    )
    return PassOverview(
        accounts=counts[0],
        queued=counts[1],
        oldest_due=oldest_due,
        last_pass_at=counts[2],
        failing=[FailingAccount(r.email, r.last_pass_error or "", r.last_pass_at) for r in failing],
    )
